// The search page's filters: behind a "Filter results" control on a phone,
// always open from tablet width (where they sit in their own column).
// Without this script the <details> still opens and closes by itself.
const filters = document.querySelector('[data-kb-filters]')

if (filters) {
  const wide = window.matchMedia('(min-width: 40.0625em)')
  const fit = () => {
    filters.classList.toggle('kb-filters--always-open', wide.matches)
    if (wide.matches) {
      filters.open = true
    }
  }
  wide.addEventListener('change', fit)
  fit()
}
