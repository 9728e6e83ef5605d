"""Server-rendered pages (DESIGN.md §7): Jinja2 templates, one stylesheet, vendored htmx.
Top of the dependency order: pages call the domains' service functions directly."""
