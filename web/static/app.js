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
