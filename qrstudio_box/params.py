"""Shared request parameter types."""

from typing import Annotated

from litestar.params import Parameter

# Row ids are SQLite INTEGERs: a larger number cannot name a row, and would overflow the driver.
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Parameter(ge=1, le=MAX_ROW_ID)]
