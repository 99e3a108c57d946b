"""`billy grpc`: the gRPC server with the standard health and reflection services."""

from __future__ import annotations

import socket
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from billy.v1 import (
    clients_pb2,
    clients_pb2_grpc,
    consumption_pb2,
    consumption_pb2_grpc,
    events_pb2,
    events_pb2_grpc,
    families_pb2,
    families_pb2_grpc,
    money_pb2,
    money_pb2_grpc,
    moneyin_pb2,
    moneyin_pb2_grpc,
    subscriptions_pb2,
    subscriptions_pb2_grpc,
)

from .clients import ClientServicer
from .consumption import ActServicer, ReconciliationServicer
from .events import EventServicer
from .families import FamilyServicer
from .interceptor import BillyInterceptor
from .money import ChargeServicer, WalletServicer
from .moneyin import ContractServicer, InvoiceServicer, PayerServicer
from .subscriptions import PlanServicer, SubscriptionServicer

# billy's services, each served, reported SERVING by health and listed by reflection.
SERVICE_NAMES = [
    clients_pb2.DESCRIPTOR.services_by_name["ClientService"].full_name,
    money_pb2.DESCRIPTOR.services_by_name["WalletService"].full_name,
    money_pb2.DESCRIPTOR.services_by_name["ChargeService"].full_name,
    moneyin_pb2.DESCRIPTOR.services_by_name["PayerService"].full_name,
    moneyin_pb2.DESCRIPTOR.services_by_name["ContractService"].full_name,
    moneyin_pb2.DESCRIPTOR.services_by_name["InvoiceService"].full_name,
    consumption_pb2.DESCRIPTOR.services_by_name["ActService"].full_name,
    consumption_pb2.DESCRIPTOR.services_by_name["ReconciliationService"].full_name,
    events_pb2.DESCRIPTOR.services_by_name["EventService"].full_name,
    subscriptions_pb2.DESCRIPTOR.services_by_name["PlanService"].full_name,
    subscriptions_pb2.DESCRIPTOR.services_by_name["SubscriptionService"].full_name,
    families_pb2.DESCRIPTOR.services_by_name["FamilyService"].full_name,
]


def build_server(*, host: str, port: int, max_workers: int = 16) -> tuple[grpc.Server, int]:
    """A started server and the port it listens on (0 picks a free one)."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers),
        interceptors=[BillyInterceptor()],
        # gRPC sets SO_REUSEPORT by default: a second server on a taken port would start without an error
        # and the kernel would split the calls between the two.
        options=[("grpc.so_reuseport", 0)],
    )
    clients_pb2_grpc.add_ClientServiceServicer_to_server(ClientServicer(), server)
    money_pb2_grpc.add_WalletServiceServicer_to_server(WalletServicer(), server)
    money_pb2_grpc.add_ChargeServiceServicer_to_server(ChargeServicer(), server)
    moneyin_pb2_grpc.add_PayerServiceServicer_to_server(PayerServicer(), server)
    moneyin_pb2_grpc.add_ContractServiceServicer_to_server(ContractServicer(), server)
    moneyin_pb2_grpc.add_InvoiceServiceServicer_to_server(InvoiceServicer(), server)
    consumption_pb2_grpc.add_ActServiceServicer_to_server(ActServicer(), server)
    consumption_pb2_grpc.add_ReconciliationServiceServicer_to_server(ReconciliationServicer(), server)
    events_pb2_grpc.add_EventServiceServicer_to_server(EventServicer(), server)
    subscriptions_pb2_grpc.add_PlanServiceServicer_to_server(PlanServicer(), server)
    subscriptions_pb2_grpc.add_SubscriptionServiceServicer_to_server(SubscriptionServicer(), server)
    families_pb2_grpc.add_FamilyServiceServicer_to_server(FamilyServicer(), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ["", *SERVICE_NAMES]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection([*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    if port:
        _check_free(host, port)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError as e:  # gRPC says no more than "Failed to bind"
        raise OSError(f"cannot listen on {host}:{port}") from e
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port}")
    server.start()
    return server, bound


def _check_free(host: str, port: int) -> None:
    """OSError (with the reason) when host:port cannot be bound: gRPC would only log it and say "Failed to bind"."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds
        probe.bind((host, port))
