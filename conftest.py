"""Root conftest: drdrill's plugin (and with it the step vocabulary) comes from its pytest11 entry point.

Nothing is registered here on purpose: registering ``steps.*`` twice would silently duplicate every step.
"""
