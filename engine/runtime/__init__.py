"""The workflow runtime: SpiffWorkflow driven through one adapter (`spiff`), scripts in the sandbox."""
