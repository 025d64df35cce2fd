"""Users, API tokens, authentication of a request, roles and region scope."""
