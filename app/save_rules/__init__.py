"""Register-specific rules of the save path, one module per area; every module is loaded (by the
save path, app.saving.changes.PLUGINS)."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
