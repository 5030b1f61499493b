// Loaded as a module by every page (no inline script: see the Content-Security-Policy).
import { initAll } from "./build/govuk-frontend.min.js"

initAll()
