"""The ``visa`` controller plug-in (``interlock[visa]``): ASCII stages over PyVISA, driven by a
command table. ``VisaController`` is the entry point; ``tables`` holds the shipped command
tables (``smc100``, ``elliptec``)."""

from .controller import VisaController
from .options import CommandTable, VisaAxisOptions, VisaOptions
from .tables import SHIPPED, command_table

__all__ = [
    "SHIPPED",
    "CommandTable",
    "VisaAxisOptions",
    "VisaController",
    "VisaOptions",
    "command_table",
]
