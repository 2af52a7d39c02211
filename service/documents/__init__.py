"""Documents attached to cooperations: model contracts, statutes, council resolutions."""
