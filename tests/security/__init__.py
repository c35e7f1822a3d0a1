"""The security suite: one test per class of the hardening issue (issue 20), each failing without its fix."""
