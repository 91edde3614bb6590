// Progressive enhancement: the pages work without this file.
document.addEventListener("click", async (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const text = copy.dataset.copy;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    copy.textContent = "Copied";
    copy.dataset.copied = "true";
    setTimeout(() => { copy.textContent = "Copy key"; }, 2500);
  }
  const confirmable = event.target.closest("[data-confirm]");
  if (confirmable && !window.confirm(confirmable.dataset.confirm)) {
    event.preventDefault();
  }
});

// The checkout success page waits for the license: it asks for the order's
// progress every two seconds and reloads once it moved on.
const checkoutStatus = document.getElementById("checkout-status");
if (checkoutStatus && ["awaiting_payment", "issuing"].includes(checkoutStatus.dataset.stage)) {
  const stage = checkoutStatus.dataset.stage;
  const poll = async () => {
    try {
      const resp = await fetch("/checkout/status" + window.location.search, { headers: { Accept: "application/json" } });
      if (resp.ok && (await resp.json()).stage !== stage) {
        window.location.reload();
        return;
      }
    } catch {
      // offline for a moment: ask again
    }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 2000);
}
