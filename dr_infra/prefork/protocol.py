"""The fork server's line that says it is ready to fork workers (read by :class:`dr_infra.prefork.ForkServer`)."""

READY = b"ready\n"
