"""The web pages: server-rendered German HTML, the first client of the project's own GraphQL API.

`base` holds what every page shares (layout, CSRF, security headers, running a page's
`.graphql` operation in-process with the request's session); one module per area of pages.
"""
