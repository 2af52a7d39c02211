"""The web pages: server-rendered German HTML, the first client of the project's own GraphQL API.

Adding a page (the ministry's pages too):

1. Write its operation as `ikz/operations/<name>.graphql` (one named operation; include
   `me { username }` so the header shows who is signed in).
2. In a module here: `result = await run(request, "<name>", variables)`; read `result.data`,
   turn `result.errors` into form messages with `messages.form_errors`, and answer with
   `render(request, "<template>.html", ...)`; after a mutation that sets cookies,
   `result.apply(response)`.
3. Forms: `{{ csrf_field(form_token) }}` in the template, `form = await form_data(request)` in the
   handler (None: CSRF or origin check failed, answer `forbidden_form(request)`); fields from
   `_forms.html` (label, required mark, hint, error, aria-invalid/aria-describedby) and
   `error_summary(errors)`, which takes focus and links to the fields.
4. Ids from URLs through `ascii_id`, redirect targets through `safe_next`.
5. Add the route to `routes.ROUTES`; browser tests use `tests/browser/conftest.py`
   (`live_server`, `page`, `check_a11y`, `live_server.create_user("APPROVER", scope=...)`).
"""
