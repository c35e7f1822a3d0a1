"""Typed records: one frozen dataclass per aggregate, what the store returns and the services hand on."""
