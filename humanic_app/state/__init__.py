"""Reflex states: they call services and hold UI state; they never hold SQL. Handlers open their session with
`AuthState._service_call`, which also shows a service's refusal and runs the reload; rows are frozen dataclasses."""
