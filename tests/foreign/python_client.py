#!/usr/bin/env python3
"""A foreign (non-.NET) client against a running DistSac gateway: what the gateway's contract promises a client in
another language (protos/distsac/v1/replay.proto). Not part of `make test` (it needs python3-grpcio and
python3-grpc-tools); run by hand against a Pendulum-v1 run, e.g. while `distsac local` runs:

    apt-get install -y python3-grpcio python3-grpc-tools
    python3 tests/foreign/python_client.py 127.0.0.1:<gateway port>

Exits 0 when every check holds, 1 naming the first that does not.
"""
import os
import struct
import subprocess
import sys
import tempfile
import uuid

import grpc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def stubs():
    out = tempfile.mkdtemp(prefix="distsac-py-")
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.join(ROOT, "protos"), f"--python_out={out}",
                    f"--grpc_python_out={out}", "distsac/v1/replay.proto"], check=True)
    sys.path.insert(0, out)
    from distsac.v1 import replay_pb2, replay_pb2_grpc  # noqa: E402
    return replay_pb2, replay_pb2_grpc


def record(action=0.5, reward=-1.0):
    # obs[3], action[1], reward, next_obs[3], terminated, int32 policy version (-1 = random)
    return struct.pack("<9fi", 1.0, 0.0, 0.1, action, reward, 0.99, 0.05, 0.2, 0.0, -1)


def expect_error(call, code, text):
    try:
        call()
    except grpc.RpcError as e:
        if e.code() != code or text not in (e.details() or ""):
            sys.exit(f"FAIL: expected {code} with '{text}', got {e.code()}: {e.details()}")
        print(f"ok: {code.name}: {e.details()}")
        return
    sys.exit(f"FAIL: expected {code}, the call succeeded")


def main(address):
    pb, rpc = stubs()
    channel = grpc.insecure_channel(address)
    gateway = rpc.ReplayGatewayStub(channel)
    worker = "py-" + uuid.uuid4().hex[:8]

    info = gateway.GetRunInfo(pb.GetRunInfoRequest(worker_id=worker))
    assert info.env_id == "Pendulum-v1" and info.record_bytes == 40 and info.incarnation > 0, info
    print(f"ok: GetRunInfo: {info.env_id}, incarnation {info.incarnation}")

    push = pb.PushRequest(worker_id=worker, incarnation=info.incarnation, sequence=0, transition_count=2,
                          records=record() + record(action=-2.0))
    first = gateway.Push(push, timeout=60)
    again = gateway.Push(push, timeout=60)
    assert (first.stored, first.duplicate) == (2, False), first
    assert (again.stored, again.duplicate) == (0, True), again
    print("ok: Push stored 2, its retry is a duplicate")

    # A client that does not know the incarnation field (built from the old .proto) is refused, not half-served.
    expect_error(lambda: gateway.Push(pb.PushRequest(worker_id=worker, sequence=1, transition_count=1, records=record())),
                 grpc.StatusCode.INVALID_ARGUMENT, "incarnation is 0")
    # Gaps are checked per lane (sequences equal modulo the shard count S); 840 shares sequence 0's lane for any S <= 8.
    expect_error(lambda: gateway.Push(pb.PushRequest(worker_id=worker, incarnation=info.incarnation, sequence=840,
                                                     transition_count=1, records=record())),
                 grpc.StatusCode.OUT_OF_RANGE, "skips sequence")
    expect_error(lambda: gateway.Push(pb.PushRequest(worker_id=worker, incarnation=info.incarnation, sequence=1,
                                                     transition_count=1, records=record(action=5.0))),
                 grpc.StatusCode.INVALID_ARGUMENT, "record 0 has action[0] = 5, outside [-2, 2]")
    expect_error(lambda: gateway.GetRunInfo(pb.GetRunInfoRequest(worker_id="bell\a")),
                 grpc.StatusCode.INVALID_ARGUMENT, "\\u0007")
    raw = channel.unary_unary("/distsac.v1.ReplayGateway/Push", request_serializer=None, response_deserializer=None)
    expect_error(lambda: raw(b"\x0a\xff\x01A", timeout=10), grpc.StatusCode.INVALID_ARGUMENT, "not a valid distsac.v1.PushRequest")

    # The restart: a new GetRunInfo, sequences from 0 again, stored (not duplicates).
    restarted = gateway.GetRunInfo(pb.GetRunInfoRequest(worker_id=worker))
    assert restarted.incarnation > info.incarnation, (restarted.incarnation, info.incarnation)
    ack = gateway.Push(pb.PushRequest(worker_id=worker, incarnation=restarted.incarnation, sequence=0, transition_count=1,
                                      records=record()), timeout=60)
    assert (ack.stored, ack.duplicate) == (1, False), ack
    print(f"ok: restarted as incarnation {restarted.incarnation}, sequence 0 stored again")
    print("all checks passed")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051")
