"""The HTTP server pieces every network-facing command shares (`serve`, `decision-log-ingest`):
uvicorn with deadlines and a connection bound counted from accept, TLS 1.2 AEAD / TLS 1.3 only,
bearer tokens read from a private file, and the Origin/Host checks of a server no browser may
talk to. A wing (authz, bundle) imports these; they import no wing."""
