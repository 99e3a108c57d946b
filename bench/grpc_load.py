"""A closed-loop gRPC load generator for billy.v1.ChargeService/CreateCharge, in Python.

Stands in for ghz (not packaged here). It runs in one process with asyncio and a single channel, so
its own CPU is large next to wrk's: bench/run reports it as the generator's share. Prints one JSON
line: {"ok", "other", "seconds", "p50_ms", "p99_ms", "statuses"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time

import grpc

from billy.v1 import money_pb2, money_pb2_grpc


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("target")
    p.add_argument("--key", required=True)
    p.add_argument("--clients", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=12)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--run-id", default=str(int(time.time())))
    args = p.parse_args()
    metadata = (("authorization", f"Bearer {args.key}"),)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    async with grpc.aio.insecure_channel(args.target) as channel:
        stub = money_pb2_grpc.ChargeServiceStub(channel)
        deadline = time.monotonic() + args.duration

        async def worker(worker_id: int) -> None:
            n = 0
            while time.monotonic() < deadline:
                n += 1
                request = money_pb2.CreateChargeRequest(
                    workspace="c2b",
                    client=f"c{random.randint(1, args.clients)}",
                    charge_id=f"g{args.run_id}-{worker_id}-{n}",
                    product="bench",
                    amount="1.00",
                )
                started = time.monotonic()
                try:
                    await stub.CreateCharge(request, metadata=metadata, timeout=30)
                    code = "OK"
                except grpc.aio.AioRpcError as e:
                    code = e.code().name
                latencies.append(time.monotonic() - started)
                statuses[code] = statuses.get(code, 0) + 1

        started = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(args.concurrency)))
        seconds = time.monotonic() - started
    latencies.sort()

    def pct(q: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2) if latencies else None

    print(
        json.dumps(
            {
                "ok": statuses.get("OK", 0),
                "other": sum(v for k, v in statuses.items() if k != "OK"),
                "seconds": seconds,
                "p50_ms": pct(0.50),
                "p99_ms": pct(0.99),
                "statuses": statuses,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
