"""Handlers by operationId; the spec version decides which of them are routed."""

from __future__ import annotations

from collections.abc import Callable

from valora_spec.reference._context import Ctx, Reply
from valora_spec.reference.routes import (
    coupons,
    customers,
    events,
    invoices,
    meta,
    meters,
    prices,
    products,
    subscriptions,
)

Handler = Callable[[Ctx], Reply]

HANDLERS: dict[str, Handler] = {
    "getMeta": meta.get_meta,
    "createMeter": meters.create_meter,
    "listMeters": meters.list_meters,
    "getMeter": meters.get_meter,
    "updateMeter": meters.update_meter,
    "queryMeterUsage": meters.query_meter_usage,
    "ingestEvent": events.ingest_event,
    "ingestEventBatch": events.ingest_event_batch,
    "createProduct": products.create_product,
    "listProducts": products.list_products,
    "getProduct": products.get_product,
    "updateProduct": products.update_product,
    "createPrice": prices.create_price,
    "listPrices": prices.list_prices,
    "getPrice": prices.get_price,
    "updatePrice": prices.update_price,
    "createCustomer": customers.create_customer,
    "listCustomers": customers.list_customers,
    "getCustomer": customers.get_customer,
    "updateCustomer": customers.update_customer,
    "deleteCustomer": customers.delete_customer,
    "createSubscription": subscriptions.create_subscription,
    "listSubscriptions": subscriptions.list_subscriptions,
    "getSubscription": subscriptions.get_subscription,
    "cancelSubscription": subscriptions.cancel_subscription,
    "revokeSubscriptionCancellation": subscriptions.revoke_subscription_cancellation,
    "generateInvoice": invoices.generate_invoice,
    "listInvoices": invoices.list_invoices,
    "getInvoice": invoices.get_invoice,
    "updateInvoice": invoices.update_invoice,
    "deleteInvoice": invoices.delete_invoice,
    "finalizeInvoice": invoices.finalize_invoice,
    "markInvoicePaid": invoices.mark_invoice_paid,
    "voidInvoice": invoices.void_invoice,
    "markInvoiceUncollectible": invoices.mark_invoice_uncollectible,
    "createCoupon": coupons.create_coupon,
    "listCoupons": coupons.list_coupons,
    "getCoupon": coupons.get_coupon,
    "deleteCoupon": coupons.delete_coupon,
}
