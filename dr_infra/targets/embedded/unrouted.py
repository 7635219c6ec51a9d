"""A REST operation moto has no route for answers in AWS's JSON error shape, not with an HTML 404.

What AWS does: every operation of a service's API is served; one the embedded target does not model must still
be refused the way AWS refuses an unknown request, HTTP 400 with the error code in ``x-amzn-ErrorType`` and a
``message`` (``UnknownOperationException``), which the SDKs parse into a ClientError.
https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html

What moto 5.2.5 does instead: for a REST service (Lambda's ``/2015-03-31/...`` paths, for example
GetAccountSettings, ListProvisionedConcurrencyConfigs, GetFunctionRecursionConfig) a path no rule of
``moto/<service>/urls.py`` matches is Werkzeug's HTML "404 Not Found", which botocore cannot parse (the
client sees an error code "404" and an HTML page as the message).

What is modelled here: a last-resort route (``{0}/.*``, Werkzeug's ``<path:...>`` rule, which every more
specific rule outranks) is added to the services listed in :data:`SERVICES` before the server builds their
apps, so such a request reaches moto's dispatcher; moto's botocore-model router names the operation, and
:mod:`error_net` answers ``UnknownOperationException`` naming it as not modelled. AWS Backup's own last-resort
route is in :mod:`backup_routes`.
"""

from __future__ import annotations

import functools
import importlib

from dr_infra.targets.embedded import moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.awslambda.urls.url_paths",
    "moto.awslambda.responses.LambdaResponse.dispatch",
)

LAST_RESORT = "{0}/.*"
SERVICES: dict[str, str] = {"moto.awslambda.urls": "LambdaResponse"}
"""moto ``urls`` module -> the response class whose ``dispatch`` serves the last-resort route."""


def install() -> None:
    """Add the last-resort routes (before the first request builds the service's app)."""
    for module_name, response_class in SERVICES.items():
        urls = importlib.import_module(module_name)
        dispatch = getattr(urls, response_class).dispatch
        moto_patch.once(
            f"{module_name}.url_paths", functools.partial(urls.url_paths.setdefault, LAST_RESORT, dispatch), by=__name__
        )
