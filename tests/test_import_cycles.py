"""No two modules of billy import each other, directly or through a chain.

The graph is grimp's (import-linter's own): every import statement of every module under `billy`,
at module level, inside functions and under TYPE_CHECKING alike, so an import moved into a function
to dodge a cycle still counts. A cycle is a strongly connected component of more than one module;
each is shown with one of its loops. (import-linter's `acyclic_siblings` contract looks at packages
rather than modules: it would miss a cycle through a package's own `__init__` and flag packages
whose modules never form a loop.)
"""

from __future__ import annotations

import grimp


def strongly_connected_components(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph's depth must not depend on the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(edges[root])))]
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def import_cycles(package: str) -> list[str]:
    """Each cycle among the package's modules: one loop through it ("a -> b -> a") and every module
    that is in it."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges = {module: graph.find_modules_directly_imported_by(module) & graph.modules for module in graph.modules}
    loops = []
    for component in strongly_connected_components(edges):
        if len(component) < 2:
            continue
        start = min(component)
        step = min(edges[start] & component)
        back = graph.find_shortest_chain(importer=step, imported=start)
        loops.append(" -> ".join([start, *back]) + f"  (all {len(component)}: {', '.join(sorted(component))})")
    return sorted(loops)


def test_components_of_a_graph_with_two_loops():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}

    components = strongly_connected_components(edges)

    assert sorted(map(sorted, components)) == [["a", "b", "c"], ["d", "e"], ["f"]]


def test_no_module_of_billy_is_in_an_import_cycle():
    cycles = import_cycles("billy")

    assert cycles == [], "import cycles (break each: defer tasks by name, move the shared code down):\n" + "\n".join(
        cycles
    )
