"""PyTensor graphs and functions whose construction is linear in the graph's size.

PyTensor 3.3's ``FunctionGraph.import_node`` copies the set of every variable already in the
graph for each node it imports (the blockers of its toposort), so building a graph of ``n``
nodes node by node, as ``pytensor.function`` and every graph rewrite do, costs ``O(n^2)``.
decenter builds graphs as large as the user's model: the rewrite's model graph
(:func:`decenter._pymc.fgraph_from_model`) and the default's fit functions
(:data:`decenter.auto.laplace.FIT_MODE`). Here the same import without the copy, and a
``Mode`` whose functions use it: same nodes, same order, same callbacks, same function.

Examples
--------
>>> import pytensor, pytensor.tensor as pt
>>> from decenter.util.linear import linear_mode
>>> x = pt.vector("x")
>>> f = pytensor.function([x], (x**2).sum(), mode=linear_mode("FAST_COMPILE"))
>>> float(f([1.0, 2.0])), type(f.maker.fgraph).__name__
(5.0, 'LinearFunctionGraph')
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.maker import FunctionMaker
from pytensor.compile.mode import Mode, get_mode
from pytensor.graph import FunctionGraph
from pytensor.graph.basic import Apply, AtomicVariable, Constant
from pytensor.graph.null_type import NullType
from pytensor.graph.op import Op
from pytensor.graph.rewriting.basic import MergeOptimizer, SequentialGraphRewriter, in2out
from pytensor.graph.utils import MissingInputError
from pytensor.tensor.elemwise import Elemwise

__all__ = [
    "LinearFunctionGraph",
    "LinearMode",
    "linear_mode",
    "bare_mode",
    "FAST_COMPILE",
    "Flatten",
    "flat_function",
    "graph_replace",
    "building_graphs",
    "Swap",
]


class LinearFunctionGraph(FunctionGraph):
    """A FunctionGraph whose imports cost the size of what is imported, not of the graph
    (no copy of the graph's variables, and a set of its inputs instead of a list scan)."""

    def _inputs_set(self) -> set:
        inputs, input_set = self.inputs, getattr(self, "_input_set", None)
        if input_set is None or len(input_set) != len(inputs):
            input_set = self._input_set = set(inputs)
        return input_set

    def import_var(self, var, reason=None, import_missing=False):
        # the base class tests an input against the list of inputs, for each one a rewrite
        # hands a node or adds (PyMC's logprob replaces every RV by its value variable this
        # way): quadratic in a model's many value variables
        if var.owner is not None or isinstance(var, AtomicVariable):
            return super().import_var(var, reason=reason, import_missing=import_missing)
        input_set = self._inputs_set()
        if var not in input_set:
            if not import_missing or isinstance(var.type, NullType):
                return super().import_var(var, reason=reason, import_missing=import_missing)
            self.inputs.append(var)
            input_set.add(var)
        self.clients.setdefault(var, [])
        self.variables.add(var)

    def import_node(self, apply_node, check=True, reason=None, import_missing=False):
        known, clients, inputs = self.variables, self.clients, self.inputs
        input_set = self._inputs_set()
        for node in _new_nodes(apply_node.outputs, known):
            for var in node.inputs if check else ():
                if var.owner is None and not isinstance(var, AtomicVariable):
                    if var in input_set:
                        continue
                    if not import_missing:
                        raise MissingInputError(f"Undeclared input: {var}", variable=var)
                    inputs.append(var)
                    input_set.add(var)
                    clients.setdefault(var, [])
            self.apply_nodes.add(node)
            node.tag.imported_by = [*getattr(node.tag, "imported_by", []), str(reason)]
            for output in node.outputs:
                clients.setdefault(output, [])
                known.add(output)
            for i, inp in enumerate(node.inputs):
                if inp not in known:
                    clients.setdefault(inp, [])
                    known.add(inp)
                clients[inp].append((node, i))
            self.execute_callbacks("on_import", node, reason)


class LinearMaker(FunctionMaker):
    """PyTensor's ``FunctionMaker`` building its graph as a :class:`LinearFunctionGraph`."""

    @staticmethod
    def create_fgraph(input_specs, output_specs, accept_inplace=False, fgraph=None, **kwargs):
        if fgraph is None and not any(spec.update is not None for spec in input_specs):
            inputs = [spec.variable for spec in input_specs]
            fgraph = LinearFunctionGraph(
                inputs,
                [spec.variable for spec in output_specs],
                update_mapping={},
                clone=kwargs.get("force_clone", False) or any(v.owner for v in inputs),
            )
        return FunctionMaker.create_fgraph(
            input_specs, output_specs, accept_inplace, fgraph=fgraph, **kwargs
        )


class LinearMode(Mode):
    """A PyTensor ``Mode`` whose functions are built on a :class:`LinearFunctionGraph`."""

    @property
    def function_maker(self):
        return LinearMaker


def linear_mode(mode: str | Mode) -> LinearMode:
    """``mode`` (a PyTensor mode or its name, e.g. ``"FAST_COMPILE"``) as a :class:`LinearMode`."""
    return LinearMode(*get_mode(mode).__getstate__())


def bare_mode(linker: str, *node_rewriters) -> LinearMode:
    """A :class:`LinearMode` whose only graph rewrites are merging and ``node_rewriters`` (one
    pass, inputs to outputs): for a function evaluated a few times, or on few elements, where
    PyTensor's canonicalisation costs more than it saves (a plan's fit, docs/auto.md).

    ``Mode(optimizer=None).including(name)`` applies nothing (the rewrites live in sub-databases
    a bare query does not reach), hence the rewriters themselves here.
    """
    parts = [MergeOptimizer()] + ([in2out(*node_rewriters)] if node_rewriters else [])
    return LinearMode(linker=linker, optimizer=SequentialGraphRewriter(*parts))


#: PyTensor's ``FAST_COMPILE`` (Python thunks, few rewrites), linear: the helper functions
#: decenter evaluates a few times (initial points, maps between parameterisations).
FAST_COMPILE = linear_mode("FAST_COMPILE")


class Flatten(Op):
    """Its inputs raveled into one float64 vector, and their shapes laid end to end in one
    int64 vector, in NumPy: one output instead of many, and no C code specific to the number
    of inputs (a ``Join`` of ``k`` inputs compiles a new C module for each ``k``)."""

    __props__ = ()

    def make_node(self, *inputs):
        inputs = [pt.as_tensor_variable(x) for x in inputs]
        return Apply(self, inputs, [pt.dvector(), pt.lvector()])

    def perform(self, node, inputs, outputs):
        flat = [np.ravel(x) for x in inputs]
        outputs[0][0] = np.concatenate(flat, dtype=np.float64) if flat else np.zeros(0)
        outputs[1][0] = np.array([d for x in inputs for d in np.shape(x)], dtype=np.int64)


#: Above this many outputs :func:`flat_function` returns them through one :class:`Flatten`.
FLAT_ABOVE = 64


def flat_function(inputs, outputs, *, mode, above: int | None = None, **kwargs):
    """``pytensor.function(inputs, outputs, mode=mode, **kwargs)``, whose call returns the list
    of outputs, the same values; above ``above`` outputs (default :data:`FLAT_ABOVE`) compiled
    with one output, :class:`Flatten`, instead.

    ``pytensor.function`` is quadratic in the number of outputs (``insert_deepcopy`` tests
    each output against every later output and every graph input; the Python linker's
    freeing plan tests each node's inputs against the list of outputs): at 2,400 outputs
    (the fit's helpers on 600 hierarchical vectors) seconds per function.

    >>> import pytensor.tensor as pt
    >>> from decenter.util.linear import FAST_COMPILE, flat_function
    >>> x = pt.vector("x")
    >>> f = flat_function([x], [x[i] * x for i in range(3)], mode=FAST_COMPILE, above=2)
    >>> [a.tolist() for a in f([1.0, 2.0, 3.0])]
    [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]
    """
    outputs = list(outputs)
    if len(outputs) <= (FLAT_ABOVE if above is None else above):
        return pytensor.function(inputs, outputs, mode=mode, **kwargs)
    fn = pytensor.function(inputs, list(Flatten()(*outputs)), mode=mode, **kwargs)
    specs = [(v.type.ndim, np.dtype(v.type.dtype)) for v in outputs]

    def call(*args):
        flat, shapes = fn(*args)
        out, at, k = [], 0, 0
        for ndim, dtype in specs:
            shape = tuple(int(d) for d in shapes[k : k + ndim])
            size = int(np.prod(shape))
            out.append(flat[at : at + size].reshape(shape).astype(dtype, copy=False))
            at, k = at + size, k + ndim
        return out

    call.maker = fn.maker  # its graph, as a Function's (e.g. to find its random generators)
    return call


def graph_replace(outputs: list, replace: dict, *, strict: bool = True) -> list:
    """``pytensor.graph.replace.graph_replace`` (PyTensor 3.3) for a list of outputs, linear:
    on a :class:`LinearFunctionGraph`, with the replacements' topological positions in a dict
    (PyTensor looks each one up in a list: quadratic in the number of replacements, one per
    free variable in the fit). The same algorithm, the same graph.

    >>> import pytensor.tensor as pt
    >>> x, y = pt.scalar("x"), pt.scalar("y")
    >>> [out.eval({y: 3.0}) for out in graph_replace([x + 1, x * 2], {x: y})]
    [array(4.), array(6.)]
    """
    from pytensor.graph.replace import truncated_graph_inputs

    replace_dict = dict(replace)
    conditions = [
        c for c in truncated_graph_inputs(outputs, replace_dict) if not isinstance(c, Constant)
    ]
    equiv = {c: c.clone(name=f"i-{i}") for i, c in enumerate(conditions)}
    fg = LinearFunctionGraph(conditions, outputs, copy_orphans=False, copy_inputs=False, memo=equiv)
    fg_replace = {equiv[c]: c for c in conditions}
    fg_replace.update({equiv[r]: v for r, v in replace_dict.items() if r in equiv})
    fg_replace = {k: v for k, v in fg_replace.items() if k in fg.variables}
    if strict:
        unused = {r: v for r, v in replace_dict.items() if r not in equiv}
        if unused:
            raise ValueError(f"Some replacements were not used: {unused}")
    position = {node: i for i, node in enumerate(fg.toposort())}

    def key(pair) -> int:
        var = pair[0]
        if var.owner is not None:
            return position[var.owner]
        if var in fg.variables:
            return -1
        raise ValueError(f"{var} is not a part of graph")

    fg.replace_all(sorted(fg_replace.items(), key=key, reverse=True), import_missing=True)
    return list(fg.outputs)


def _new_nodes(outputs, known):
    """``pytensor.graph.traversal.toposort(outputs, blockers=known)`` without copying ``known``."""
    computed: set = set()
    todo = list(outputs)
    while todo:
        cur = todo.pop()
        if cur in computed or cur in known or cur.owner is None:
            continue
        apply = cur.owner
        pending = [
            i for i in apply.inputs if i.owner is not None and i not in computed and i not in known
        ]
        if pending:
            todo.append(cur)
            todo.extend(pending)
        else:
            yield apply
            computed.update(apply.outputs)


class Swap:
    """A context manager that calls ``on()`` when its first use starts and ``off()`` when
    its last ends: nested or concurrent uses (fits in threads) share one swap of a
    library's attribute, undone once nothing uses it (also after an error)."""

    def __init__(self, on: Callable[[], None], off: Callable[[], None]):
        self._on, self._off, self._depth, self._lock = on, off, 0, threading.Lock()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            self._depth += 1
            if self._depth == 1:
                self._on()
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    self._off()


_MAKE_SCALAR_NODE = Elemwise.make_scalar_node
_shadows: dict[tuple, Apply] = {}


def _shadow_node(self: Elemwise, *inputs) -> Apply:
    """``Elemwise.make_scalar_node``, one node per scalar op and input dtypes."""
    key = (self.scalar_op, *(i.type.dtype for i in inputs))
    node = _shadows.get(key)
    if node is None:
        node = _shadows[key] = _MAKE_SCALAR_NODE(self, *inputs)
    return node


_gc_was_enabled = True


def _start_building() -> None:
    global _gc_was_enabled
    _gc_was_enabled = gc.isenabled()
    gc.disable()
    Elemwise.make_scalar_node = _shadow_node


def _end_building() -> None:
    Elemwise.make_scalar_node = _MAKE_SCALAR_NODE
    _shadows.clear()
    if _gc_was_enabled:
        gc.enable()


# nested or concurrent fits: one pause and one swap, undone when the last ends
_building = Swap(_start_building, _end_building)


@contextlib.contextmanager
def building_graphs() -> Iterator[None]:
    """While the fit builds and compiles its graphs: no cyclic garbage collection, and one
    scalar "shadow" node per scalar op and input dtypes.

    Building PyTensor graphs allocates tens of thousands of objects, and every full collection
    walks all of PyMC's and PyTensor's live objects (radon's fit 1.66 -> 1.31 s, median of 8);
    the garbage is collected afterwards. ``Elemwise.make_node`` builds a scalar node of its
    inputs' dtypes only to read the number and dtypes of its outputs, which depend on nothing
    else: each is a reference cycle left to that collection (14 % of the objects a transform
    leaves to it; radon's transform 0.92x over 60 alternating pairs, docs/auto.md). Nested or
    concurrent uses share one :class:`Swap`: when the last ends, PyTensor's method is back
    and the collector as it was before the first.
    """
    with _building():
        yield
