"""Drives the Python MCP SDK 2.x client (`pip install mcp`) against a URL, for interop tests.

Usage: python py_client.py PLAN_JSON URL [URL ...]

PLAN_JSON is {"mode": "auto" | "legacy" | "2026-07-28", "steps": [STEP, ...]} where a STEP is
one of {"op": "list_tools"}, {"op": "call_tool", "name": N, "arguments": {...}},
{"op": "read_resource", "uri": U}, {"op": "get_prompt", "name": N, "arguments": {...}},
{"op": "complete", "ref": {"type": "ref/prompt", "name": N} | {"type": "ref/resource", "uri": U},
"argument": {"name": A, "value": V}}.

`Client(url)` in mode "auto" probes `server/discover` first and falls back to `initialize`.
Elicitations are accepted with {"name": "user<N>"}, N the round their message names ("Round N
of M: ..."), as era_client.ts does; sampling replies "reply to <first text>".
Runs the plan against every URL at once (one interpreter start for all) and prints one JSON
array, a run per URL: {"url", "protocolVersion", "results": [{"op", "result" | "error",
"progress"?}, ...]}, or {"url", "error"} when it cannot connect.
"""

import asyncio
import json
import re
import sys

from mcp import Client, types


async def on_elicit(_context, params):
    round_ = re.match(r"Round (\d+)", params.message)
    return types.ElicitResult(action="accept", content={"name": f"user{round_.group(1) if round_ else ''}"})


async def on_sample(_context, params):
    first = params.messages[0].content if params.messages else None
    text = getattr(first, "text", "?")
    return types.CreateMessageResult(
        role="assistant",
        content=types.TextContent(type="text", text=f"reply to {text}"),
        model="test",
    )


def dump(value):
    return value.model_dump(mode="json", by_alias=True, exclude_none=True)


async def run_step(client, step):
    op = step["op"]
    if op == "list_tools":
        return {"result": dump(await client.list_tools())}
    if op == "call_tool":
        progress = []

        async def on_progress(value, total, message):
            progress.append(value)

        result = await client.call_tool(
            step["name"], step.get("arguments", {}), progress_callback=on_progress
        )
        return {"result": dump(result), "progress": progress}
    if op == "read_resource":
        return {"result": dump(await client.read_resource(step["uri"]))}
    if op == "get_prompt":
        return {"result": dump(await client.get_prompt(step["name"], step.get("arguments", {})))}
    if op == "complete":
        ref = step["ref"]
        model = types.PromptReference if ref["type"] == "ref/prompt" else types.ResourceTemplateReference
        return {"result": dump(await client.complete(model(**ref), step["argument"]))}
    raise ValueError(f'Cannot run step: unknown op "{op}"')


async def run_plan(url, plan):
    client = Client(
        url,
        mode=plan.get("mode", "auto"),
        elicitation_callback=on_elicit,
        sampling_callback=on_sample,
        client_info=types.Implementation(name="py-era-client", version="1.0.0"),
    )
    try:
        async with client:
            results = []
            for step in plan["steps"]:
                try:
                    outcome = await run_step(client, step)
                except Exception as error:  # reported per step, so one failure shows the rest
                    outcome = {"error": f"{type(error).__name__}: {error}"}
                results.append({"op": step["op"], **outcome})
            return {"url": url, "protocolVersion": client.protocol_version, "results": results}
    except Exception as error:
        return {"url": url, "error": f"Cannot connect: {type(error).__name__}: {error}"}


async def main(plan, urls):
    runs = await asyncio.gather(*(run_plan(url, plan) for url in urls))
    print(json.dumps(runs))


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1]), sys.argv[2:]))
