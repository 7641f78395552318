//! `tresor bench --key-stores`: Encrypt (64 bytes) on a software key, a key in an
//! `AWS_CLOUDHSM` store on a fresh SoftHSM2 token and a key in an `EXTERNAL_KEY_STORE`
//! whose proxy is a second `tresor serve --dev --xks-listen` on loopback, measured one
//! after the other against the same server, each with its ratio to the software key.

use crate::bench::DevServer;
use crate::cli::BenchArgs;
use serde_json::{json, Value};
use std::sync::Arc;
use tresor_bench::client::{Client, Endpoint, Outcome};
use tresor_bench::ops::{Op, Preparer};
use tresor_bench::sigv4::{Credentials, Signer};
use tresor_bench::stats::Summary;

const CLUSTER: &str = "cluster-benchtokenaa";
const TOKEN: &str = "tresor-bench";
const PIN: &str = "bench-pin-4829";
const SO_PIN: &str = "bench-so-9911";
/// A self-signed certificate standing for the cluster's trust anchor.
const TRUST_ANCHOR: &str = "-----BEGIN CERTIFICATE-----
MIIBrjCCAVOgAwIBAgIUUdvEbJwbmKjfaR1kPbx8HtIl0gcwCgYIKoZIzj0EAwIw
KzEpMCcGA1UEAwwgdHJlc29yLXRlc3QtY2x1c3Rlci10cnVzdC1hbmNob3IwIBcN
MjYxMjAxMTczMDUxWhgPMjEyNjExMDcxNzMwNTFaMCsxKTAnBgNVBAMMIHRyZXNv
ci10ZXN0LWNsdXN0ZXItdHJ1c3QtYW5jaG9yMFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEXyiGoANQW0AsXeEyBZvoVtWuJp1iLzD8c6g2e46Y49sgVjfK9XvXshR9
TmUvG4h1izn2Q68fIoQp/wa6M1fa4KNTMFEwHQYDVR0OBBYEFGfxUv8jvCamI24A
SWh3hl1zIRKjMB8GA1UdIwQYMBaAFGfxUv8jvCamI24ASWh3hl1zIRKjMA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhALZQbmXYah8t1YxjlMy6IE8P
SniaUygUe767ZVPYkjs2AiEA9VV0rRbTQMnoxLddeYMG2CEDFu8s+qkG9uu8V7dd
HIQ=
-----END CERTIFICATE-----
";

/// Runs the comparison and prints it (table, or JSON with `--output json`).
pub fn run(
    args: &BenchArgs,
    config: tresor_bench::Config,
    runtime: &tokio::runtime::Runtime,
) -> Result<(), String> {
    let results = runtime.block_on(async {
        tokio::select! {
            r = measure_all(args, &config) => r,
            _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
        }
    })?;
    let base = results.first().map(|(_, s)| s.rps).unwrap_or_default();
    let ratio = |rps: f64| if base > 0.0 { rps / base } else { 0.0 };
    let json = json!({
        "operation": "Encrypt64",
        "concurrency": config.concurrency,
        "duration_s": config.duration.as_secs_f64(),
        "key_stores": results.iter().map(|(name, s)| json!({
            "key": name,
            "rps": s.rps,
            "p50_ms": s.latency_ms.p50,
            "p99_ms": s.latency_ms.p99,
            "errors": s.errors,
            "error_types": s.error_types,
            "ratio_to_software": ratio(s.rps),
        })).collect::<Vec<_>>(),
    });
    let text = {
        use std::fmt::Write;
        let mut t = format!(
            "Encrypt64, {} workers, {:.1} s each\n{:<10} {:>10} {:>9} {:>9} {:>7} {:>9}\n",
            config.concurrency,
            config.duration.as_secs_f64(),
            "key",
            "req/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "ratio"
        );
        for (name, s) in &results {
            let _ = writeln!(
                t,
                "{name:<10} {:>10.0} {:>9.2} {:>9.2} {:>7} {:>9.3}",
                s.rps,
                s.latency_ms.p50,
                s.latency_ms.p99,
                s.errors,
                ratio(s.rps)
            );
        }
        t
    };
    let json = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    match args.output.as_str() {
        "json" => println!("{json}"),
        _ => print!("{text}"),
    }
    if let Some(path) = &args.json {
        std::fs::write(path, json + "\n")
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}

/// A SoftHSM2 configuration with one fresh token, in `dir`.
fn softhsm_token(dir: &std::path::Path) -> Result<std::path::PathBuf, String> {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).map_err(|e| e.to_string())?;
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let out = std::process::Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args(["--init-token", "--free", "--label", TOKEN])
        .args(["--pin", PIN, "--so-pin", SO_PIN])
        .output()
        .map_err(|e| format!("softhsm2-util (apt-get install softhsm2): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "softhsm2-util: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(conf)
}

/// `tresor admin xks-credential create` against the proxy: (AccessKeyId, secret).
fn xks_credential(endpoint: &str, creds: &Credentials) -> Result<(String, String), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(exe)
        .args(["admin", "xks-credential", "create", "--account"])
        .arg(crate::serve::DEV_ACCOUNT)
        .args(["--output", "json", "--endpoint", endpoint])
        .env("AWS_ACCESS_KEY_ID", &creds.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &creds.secret_access_key)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "creating an XKS credential: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let field = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("xks-credential create: no {k}"))
    };
    Ok((field("AccessKeyId")?, field("SecretAccessKey")?))
}

async fn client_for(url: &str, creds: &Credentials) -> Result<(Endpoint, Client), String> {
    let ep = Endpoint::parse_with_ca(url, None).await?;
    let client = Client::new(ep.clone(), Signer::new(creds.clone(), ep.host.clone()));
    Ok((ep, client))
}

async fn measure_all(
    args: &BenchArgs,
    config: &tresor_bench::Config,
) -> Result<Vec<(String, Summary)>, String> {
    let progress = |m: &str| eprintln!("tresor bench: {m}");
    let creds = &config.credentials;

    // The external key manager: a second Tresor serving the XKS proxy API.
    let proxy = DevServer::start_with(
        creds,
        false,
        &["--xks-listen".into(), "127.0.0.1:0".into()],
        &[],
    )
    .await?;
    let xks_url = proxy
        .xks_url
        .clone()
        .ok_or("the proxy printed no XKS banner")?;
    let xks_endpoint = xks_url
        .strip_suffix("/kms/xks/v1")
        .ok_or_else(|| format!("unexpected XKS URL {xks_url}"))?
        .to_string();
    let (access, secret) = xks_credential(&proxy.endpoint, creds)?;
    let (_, mut pc) = client_for(&proxy.endpoint, creds).await?;
    let external = key_id(&call(&mut pc, "CreateKey", &json!({})).await?)?;
    progress(&format!(
        "proxy: tresor serve --dev --xks-listen at {xks_url}"
    ));

    // The KMS under test, with a SoftHSM2 token declared as an HSM cluster.
    let token_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let conf = softhsm_token(token_dir.path())?;
    let cluster = format!("{CLUSTER}={}:{TOKEN}", args.softhsm_module.display());
    let kms = DevServer::start_with(
        creds,
        false,
        &["--hsm-cluster".into(), cluster],
        &[("SOFTHSM2_CONF".into(), conf.display().to_string())],
    )
    .await?;
    let (endpoint, mut c) = client_for(&kms.endpoint, creds).await?;
    let software = key_id(&call(&mut c, "CreateKey", &json!({})).await?)?;
    let hsm_store = store_id(
        &call(
            &mut c,
            "CreateCustomKeyStore",
            &json!({
                "CustomKeyStoreName": "bench-hsm",
                "CloudHsmClusterId": CLUSTER,
                "TrustAnchorCertificate": TRUST_ANCHOR,
                "KeyStorePassword": PIN,
            }),
        )
        .await?,
    )?;
    call(
        &mut c,
        "ConnectCustomKeyStore",
        &json!({ "CustomKeyStoreId": hsm_store }),
    )
    .await?;
    let hsm = key_id(
        &call(
            &mut c,
            "CreateKey",
            &json!({ "CustomKeyStoreId": hsm_store, "Origin": "AWS_CLOUDHSM" }),
        )
        .await?,
    )?;
    let xks_store = store_id(
        &call(
            &mut c,
            "CreateCustomKeyStore",
            &json!({
                "CustomKeyStoreName": "bench-xks",
                "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
                "XksProxyConnectivity": "PUBLIC_ENDPOINT",
                "XksProxyUriEndpoint": xks_endpoint,
                "XksProxyUriPath": "/kms/xks/v1",
                "XksProxyAuthenticationCredential": {
                    "AccessKeyId": access,
                    "RawSecretAccessKey": secret,
                },
            }),
        )
        .await?,
    )?;
    call(
        &mut c,
        "ConnectCustomKeyStore",
        &json!({ "CustomKeyStoreId": xks_store }),
    )
    .await?;
    let xks = key_id(
        &call(
            &mut c,
            "CreateKey",
            &json!({
                "CustomKeyStoreId": xks_store,
                "Origin": "EXTERNAL_KEY_STORE",
                "XksKeyId": external,
            }),
        )
        .await?,
    )?;

    let mut out = Vec::new();
    for (name, key) in [("software", software), ("hsm", hsm), ("external", xks)] {
        let plan = Preparer::new(&endpoint, creds, vec![key])
            .plan(Op::Encrypt64)
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        progress(&format!(
            "Encrypt64 on the {name} key: {} workers, {:.1} s warm-up, {:.1} s",
            config.concurrency,
            config.warmup.as_secs_f64(),
            config.duration.as_secs_f64()
        ));
        let rec = tresor_bench::measure(&endpoint, creds, Arc::new(plan), config, kms.pid()).await;
        out.push((name.to_string(), rec.summary(config.duration)));
    }
    drop((kms, proxy, token_dir));
    Ok(out)
}

fn key_id(v: &Value) -> Result<String, String> {
    v.pointer("/KeyMetadata/KeyId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("CreateKey: no KeyId in {v}"))
}

fn store_id(v: &Value) -> Result<String, String> {
    v.get("CustomKeyStoreId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("CreateCustomKeyStore: no CustomKeyStoreId in {v}"))
}

/// One API call with a JSON body; the JSON answer or the error.
async fn call(client: &mut Client, op: &str, body: &Value) -> Result<Value, String> {
    match client.call(op, body.to_string().into_bytes().into()).await {
        Outcome::Ok(b) => serde_json::from_slice(&b).map_err(|e| format!("{op}: {e}")),
        other => Err(format!("{op}: {other:?}")),
    }
}
