"""The three ways to undo a harmful change: ``backup``, ``pitr`` and ``item``.

Each strategy turns the batch's harmful records into one outcome per record; the
handler logs and reports them. See each module's docstring for its guarantees.
"""
