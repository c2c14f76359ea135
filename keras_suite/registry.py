"""A small name -> object registry used for apps and exporters."""

from keras_suite.errors import UserError, closest


class Registry:
    """Maps names to objects; `register` is a decorator, `get` fails with the closest name."""

    def __init__(self, kind):
        self.kind = kind
        self._items = {}

    def register(self, name):
        def decorator(obj):
            if name in self._items:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name):
        if name not in self._items:
            raise UserError(f"unknown {self.kind} '{name}'{closest(name, self._items)}; "
                            f"choose from: {', '.join(sorted(self._items))}")
        return self._items[name]

    def names(self):
        return sorted(self._items)

    def __contains__(self, name):
        return name in self._items
