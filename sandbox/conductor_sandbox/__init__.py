"""A local emulator of the ConductorOne and Orkes Conductor APIs used by conductor.principals.

It shares no code with the collection: it checks client assertions, DPoP proofs and
request shapes on its own, with a different JOSE library (joserfc).
"""
