//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) and hand-made seeds
//! through the same harnesses the cargo-fuzz targets run: every input that once found
//! new coverage or a bug stays a regression test on stable Rust, in a few seconds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use tresor_fuzzing::{audit_reader, request_decode, TARGETS};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

/// One test, so that the request service's data directory can be removed at the end.
#[test]
fn committed_corpus_and_seeds_replay_without_a_failure() {
    replay_committed_corpus();
    replay_seeds();
    request_decode::remove_data_dir();
}

fn replay_committed_corpus() {
    let mut total = 0;
    for (target, run) in TARGETS {
        let dir = corpus_dir(target);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        assert!(!entries.is_empty(), "no corpus for {target}");
        for path in &entries {
            run(&std::fs::read(path).unwrap());
        }
        total += entries.len();
    }
    assert!(total > 0);
}

fn replay_seeds() {
    let seeds = request_seeds();
    assert_eq!(seeds.len(), request_decode::operations().len());
    for seed in &seeds {
        request_decode::run(seed);
    }
}

#[test]
fn a_real_audit_log_verifies_after_packing() {
    let dir = tempfile::tempdir().unwrap();
    let packed = audit_reader::pack(&real_audit_log(dir.path())).unwrap();
    assert!(audit_reader::verify_packed(&packed).unwrap());
    audit_reader::run(&packed);
}

/// Writes the seeds to `TRESOR_FUZZ_SEEDS/<target>/` (run before a first fuzzing
/// session): `TRESOR_FUZZ_SEEDS=/tmp/seeds cargo test -p tresor-fuzzing --test corpus -- --ignored`.
#[test]
#[ignore]
fn write_seeds() {
    let out = PathBuf::from(std::env::var("TRESOR_FUZZ_SEEDS").expect("TRESOR_FUZZ_SEEDS"));
    let write = |target: &str, name: String, bytes: &[u8]| {
        let d = out.join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(name), bytes).unwrap();
    };
    for (i, seed) in request_seeds().iter().enumerate() {
        write("request_decode", format!("seed-{i:02}"), seed);
    }
    let dir = tempfile::tempdir().unwrap();
    let packed = audit_reader::pack(&real_audit_log(dir.path())).unwrap();
    write("audit_reader", "seed-real-log".into(), &packed);
    for (i, seed) in sigv4_seeds().iter().enumerate() {
        write("sigv4_parse", format!("seed-{i:02}"), seed.as_bytes());
    }
    for (i, seed) in policy_seeds().iter().enumerate() {
        write("policy_parse", format!("seed-{i:02}"), seed.as_bytes());
    }
    write("blob_parse", "seed-00".into(), b"HR\0hello");
}

/// One plausible body per operation (the selector byte first).
fn request_seeds() -> Vec<Vec<u8>> {
    let blob = "AQEBAQEBAQEBAQEBAQEBAQEAAAADAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";
    request_decode::operations()
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let body = match op.name {
                "CreateKey" => r#"{"KeySpec":"ECC_NIST_P384","KeyUsage":"SIGN_VERIFY","Description":"d","Tags":[{"TagKey":"k","TagValue":"v"}]}"#.to_string(),
                "Encrypt" => r#"{"KeyId":"alias/s","Plaintext":"aGVsbG8=","EncryptionContext":{"Dept":"HR"}}"#.into(),
                "Decrypt" => format!(r#"{{"CiphertextBlob":"{blob}","EncryptionContext":{{"Dept":"HR"}}}}"#),
                "ReEncrypt" => format!(r#"{{"CiphertextBlob":"{blob}","DestinationKeyId":"alias/s"}}"#),
                "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext" => r#"{"KeyId":"alias/s","KeySpec":"AES_256"}"#.into(),
                "GenerateDataKeyPair" | "GenerateDataKeyPairWithoutPlaintext" => r#"{"KeyId":"alias/s","KeyPairSpec":"ECC_NIST_P256"}"#.into(),
                "GenerateRandom" => r#"{"NumberOfBytes":32}"#.into(),
                "GenerateMac" => r#"{"KeyId":"alias/h","Message":"aGk=","MacAlgorithm":"HMAC_SHA_256"}"#.into(),
                "VerifyMac" => r#"{"KeyId":"alias/h","Message":"aGk=","MacAlgorithm":"HMAC_SHA_256","Mac":"AAAA"}"#.into(),
                "Sign" => r#"{"KeyId":"alias/e","Message":"aGk=","SigningAlgorithm":"ECDSA_SHA_256"}"#.into(),
                "Verify" => r#"{"KeyId":"alias/g","Message":"aGk=","SigningAlgorithm":"RSASSA_PSS_SHA_256","Signature":"AAAA"}"#.into(),
                "GetPublicKey" => r#"{"KeyId":"alias/r"}"#.into(),
                "DeriveSharedSecret" => r#"{"KeyId":"alias/a","KeyAgreementAlgorithm":"ECDH","PublicKey":"AAAA"}"#.into(),
                "Encapsulate" => r#"{"KeyId":"alias/m","EncapsulationAlgorithm":"ML_KEM"}"#.into(),
                "Decapsulate" => r#"{"KeyId":"alias/m","EncapsulationAlgorithm":"ML_KEM","Ciphertext":"AAAA"}"#.into(),
                "CreateAlias" | "UpdateAlias" => r#"{"AliasName":"alias/new","TargetKeyId":"alias/s"}"#.into(),
                "DeleteAlias" => r#"{"AliasName":"alias/new"}"#.into(),
                "CreateGrant" => r#"{"KeyId":"alias/s","GranteePrincipal":"arn:aws:iam::111122223333:user/bob","Operations":["Encrypt"],"Constraints":{"EncryptionContextSubset":{"a":"b"}}}"#.into(),
                "RetireGrant" | "RevokeGrant" => r#"{"KeyId":"alias/s","GrantId":"0000000000000000000000000000000000000000000000000000000000000000"}"#.into(),
                "PutKeyPolicy" => r#"{"KeyId":"alias/s","PolicyName":"default","Policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"}"#.into(),
                "GetKeyPolicy" => r#"{"KeyId":"alias/s","PolicyName":"default"}"#.into(),
                "TagResource" => r#"{"KeyId":"alias/s","Tags":[{"TagKey":"k","TagValue":"v"}]}"#.into(),
                "UntagResource" => r#"{"KeyId":"alias/s","TagKeys":["k"]}"#.into(),
                "ScheduleKeyDeletion" => r#"{"KeyId":"alias/s","PendingWindowInDays":7}"#.into(),
                "EnableKeyRotation" => r#"{"KeyId":"alias/s","RotationPeriodInDays":90}"#.into(),
                "UpdateKeyDescription" => r#"{"KeyId":"alias/s","Description":"x"}"#.into(),
                "GetParametersForImport" => r#"{"KeyId":"alias/x","WrappingAlgorithm":"RSAES_OAEP_SHA_256","WrappingKeySpec":"RSA_2048"}"#.into(),
                "ImportKeyMaterial" | "DeleteImportedKeyMaterial" => r#"{"KeyId":"alias/x","ImportToken":"AAAA","EncryptedKeyMaterial":"AAAA","ExpirationModel":"KEY_MATERIAL_DOES_NOT_EXPIRE"}"#.into(),
                "ListKeys" | "ListAliases" | "ListRetirableGrants" => r#"{"Limit":10,"RetiringPrincipal":"arn:aws:iam::111122223333:root"}"#.into(),
                _ => r#"{"KeyId":"alias/s","Limit":5}"#.into(),
            };
            let mut input = vec![u8::try_from(i).unwrap()];
            input.extend(body.into_bytes());
            input
        })
        .collect()
}

fn sigv4_seeds() -> Vec<String> {
    vec![
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7\nhost: kms.us-east-1.amazonaws.com\nx-amz-date: 20150830T123600Z\nx-amz-target: TrentService.ListKeys\ncontent-type: application/x-amz-json-1.1\n\n{}".into(),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/us-east-1/kms/aws4_request,SignedHeaders=host,Signature=zz\nhost: a\nx-amz-date: 20150830T1236Z\n\n".into(),
    ]
}

fn policy_seeds() -> Vec<String> {
    vec![
        format!(
            "{}\0{}",
            r#"{"Version":"2012-10-17","Id":"p","Statement":[{"Sid":"a","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","444455556666"]},"Action":["kms:Encrypt","kms:Re*"],"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:Dept":"HR"},"ForAnyValue:StringLike":{"kms:RequestAlias":"alias/a*"},"NumericLessThan":{"kms:GrantConstraintType":"3"},"Bool":{"kms:GrantIsForAWSResource":"true"},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"},"Null":{"kms:ViaService":"true"}}},{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"NotAction":"kms:Decrypt","NotResource":"arn:aws:kms:*"}]}"#,
            r#"{"action":"kms:Encrypt","conditions":{"kms:EncryptionContext:Dept":["HR"],"kms:RequestAlias":["alias/ab"],"aws:SourceIp":["10.1.2.3"],"aws:CurrentTime":["2026-01-01T00:00:00Z"]}}"#
        ),
        r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#.into(),
    ]
}

/// A small audit directory written by the production sink, sealed with a digest.
fn real_audit_log(dir: &Path) -> PathBuf {
    let audit = dir.join("audit");
    let config = tresor_audit::FileSinkConfig::new(audit.clone(), dir.join("audit-signing.pem"));
    let sink = Arc::new(tresor_audit::FileAuditSink::open(config).unwrap());
    let caller = tresor_core::Caller {
        account: "111122223333".into(),
        principal_arn: "arn:aws:iam::111122223333:root".into(),
        access_key_id: "AKIDEXAMPLE".into(),
        region: "us-east-1".into(),
        operator: false,
        source_ip: "127.0.0.1".into(),
        user_agent: "seed".into(),
        request_id: "r".into(),
        secure_transport: false,
    };
    for (i, name) in ["CreateKey", "Encrypt", "Decrypt"].iter().enumerate() {
        let record = tresor_core::audit::AuditRecord {
            event_name: name,
            caller: &caller,
            resources: &[],
            error_code: (i == 2).then_some("InvalidCiphertextException"),
            error_message: (i == 2).then(|| "bad".to_string()),
            event_time_ms: 1_795_867_200_000,
            request_parameters: tresor_core::audit::LoggedJson::from_value(
                &serde_json::json!({"keyId": "alias/s"}),
            ),
            response_elements: None,
            additional_event_data: None,
            key_material_id: None,
            read_only: i != 0,
            service_event: false,
            admitted_bytes: 0,
            event_id: None,
        };
        tresor_core::audit::AuditSink::record(sink.as_ref(), &record).unwrap();
    }
    sink.close().unwrap();
    audit
}
