"""Register-specific rules of the save path, one module per area; every module is loaded, and with
them the derived tables' write subscribers (app.saving.derived), so every save keeps those in step."""

import importlib
import pkgutil

from app.saving import derived  # noqa: F401  (its modules subscribe to writes: app.saving.changes.after_write)

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
