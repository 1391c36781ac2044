//! Serial-number grammars of every registry, parsed into `(namespace, start, end)`.
