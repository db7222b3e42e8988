"""Rebuilding a read model from the start of the log, for operators.

The rebuild writes a new generation of the model's tables while the live one keeps serving
(complete, if behind); the batch that reaches the log's head also makes the new generation
live and drops the old, in one transaction. Stopped half-way, the unfinished generation and
its position stay in ``rm_state``: the next replay (or any running runner) resumes it.
"""

from __future__ import annotations

from collections.abc import Callable

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
    g: Generation | None = start(read_models, name)
    projector = read_models.projector
    done = 0
    while g is not None and g.status == "building":
        if max_batches is not None and done >= max_batches:
            break
        g = projector.process_batch(name, g.generation)
        done += 1
        if g is not None and on_batch is not None:
            on_batch(g, projector.head())
    return g
