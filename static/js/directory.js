// The directory's district picker: choosing a district opens its page (no inline script: CSP).
document.querySelectorAll("[data-directory-pick]").forEach((select) => {
  select.addEventListener("change", () => {
    const template = select.dataset.urlTemplate;
    window.location.href = template.replace("000", encodeURIComponent(select.value));
  });
});
