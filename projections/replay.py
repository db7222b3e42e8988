"""Rebuilding a read model from the start of the log, for operators.

The rebuild writes a new generation of the model's tables while the live one keeps serving
(complete, if behind); the batch that reaches the log's head also makes the new generation
live and drops the old, in one transaction. Stopped half-way, the unfinished generation and
its position stay in ``rm_state``: the next replay (or any running runner) resumes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from projections import generations as gens
from projections.generations import Generation
from projections.read_models import ReadModels

Progress = Callable[[Generation, int], None]  # (state after a batch, head of the log)


def start(read_models: ReadModels, name: str) -> Generation:
    return gens.start_building(read_models.db, read_models.model(name))


def rebuild(read_models: ReadModels, name: str, on_batch: Progress | None = None,
            max_batches: int | None = None) -> Generation | None:
    """Rebuild ``name`` (or resume its rebuild) until it is live; the final state. With
    ``max_batches``, stop early (what an interruption looks like, for tests)."""
    return rebuild_many(read_models, [name], on_batch, max_batches).get(name)


def rebuild_many(read_models: ReadModels, names: Sequence[str],
                 on_batch: Progress | None = None,
                 max_batches: int | None = None) -> dict[str, Generation]:
    """Rebuild the named models together (or resume their rebuilds) until all are live, in
    one pass over the log: each batch of events is read and decoded once for all of them.
    Their final states by name (a model whose rebuild another process replaced is left
    out)."""
    states = {name: start(read_models, name) for name in names}
    projector = read_models.projector
    done = 0
    while building := [g for g in states.values() if g.status == "building"]:
        if max_batches is not None and done >= max_batches:
            break
        after = {g.name: g for g in projector.rebuild_batch(building)}
        for g in building:
            if g.name in after:
                states[g.name] = after[g.name]
            else:
                del states[g.name]  # its generation is gone: replaced by another rebuild
        done += 1
        if on_batch is not None:
            head = projector.head()
            for g in after.values():
                on_batch(g, head)
    return states
