"""The commands: ``drdrill run|serve|report|plan|janitor``, their options and their exit codes."""
