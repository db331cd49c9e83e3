"""A remix's prompt diff as the contract's GraphQL types: its words hidden where rights say."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.graphql import rights as rights_fields
from api.graphql.pages import later
from lineage.models import PromptDiff as PromptDiffModel

__all__ = ["DiffOp", "PromptDiff"]


@strawberry.type(description="One change between a parent's prompt and its remix's prompt.")
class DiffOp:
    op: str = strawberry.field(description="replace, insert or delete")
    before: str
    after: str


@strawberry.type(description="What a remix changed in its parent's prompt.")
class PromptDiff:
    model: strawberry.Private[PromptDiffModel]
    # The remix the diff belongs to: below admin a removed remix's words are
    # blank here as in every export (lineage.rights.visibility).
    child_id: strawberry.Private[str]

    @strawberry.field(description="For people, e.g. 'crocodile → hippo'.")
    def summary(self, info: Info) -> str:
        hidden = rights_fields.words_hidden_now(self.child_id, info)
        if hidden is None:
            return later(self._summary(info))
        return "" if hidden else self.model.summary

    async def _summary(self, info: Info) -> str:
        if await rights_fields.words_hidden(self.child_id, info):
            return ""
        return self.model.summary

    variant_key: str = strawberry.field(
        description="The changes, case-folded and whitespace-collapsed: 'crocodile→hippo'."
    )
    similarity: float = strawberry.field(description="2 × matched tokens / all tokens, in [0, 1].")

    @strawberry.field
    def ops(self, info: Info) -> list[DiffOp]:
        hidden = rights_fields.words_hidden_now(self.child_id, info)
        if hidden is None:
            return later(self._ops(info))
        return [] if hidden else self._diff_ops()

    async def _ops(self, info: Info) -> list[DiffOp]:
        if await rights_fields.words_hidden(self.child_id, info):
            return []
        return self._diff_ops()

    def _diff_ops(self) -> list[DiffOp]:
        return [DiffOp(op=op.op, before=op.before, after=op.after) for op in self.model.ops]

    @classmethod
    def from_model(cls, diff: PromptDiffModel, child_id: str) -> PromptDiff:
        return cls(
            model=diff,
            child_id=child_id,
            variant_key=diff.variant_key,
            similarity=diff.similarity,
        )
