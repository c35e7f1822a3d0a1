"""The service layer: the only part of the engine that entry points call.

One module per area; each public function is one action and owns its
transaction (`unit_of_work`). Entry points import from here, `engine.json_shapes`
(JSON shapes) and `engine.errors`, nothing else of the engine.
"""
