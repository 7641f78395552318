// Tresor console: progressive enhancement only; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Forms with data-confirm ask before they post.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (ev) => {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  }
  // Create key: offer only the key specs of the chosen usage.
  const usage = document.getElementById("usage");
  const spec = document.getElementById("spec");
  if (usage && spec) {
    const sync = () => {
      let first = null;
      for (const group of spec.querySelectorAll("optgroup")) {
        const on = group.dataset.usage === usage.value;
        group.hidden = !on;
        group.disabled = !on;
        if (on && !first) first = group.querySelector("option");
      }
      const current = spec.selectedOptions[0];
      if (!current || current.parentElement.disabled) {
        if (first) first.selected = true;
      }
    };
    usage.addEventListener("change", sync);
    sync();
  }
});
