"""The module-scoped app of tests/links serves the table-driven generate tests too."""

from tests.links.conftest import shared, shared_user  # noqa: F401 - fixtures
