/**
 * The project the demo agent "writes": a warehouse management system, the case that motivated
 * leangraph (two hours of generation, React components of 11,000 to 13,000+ characters each).
 */

export type FieldType = "string" | "number" | "boolean" | "Date" | "status";

export interface EntityField {
  name: string;
  type: FieldType;
}

export interface DomainEntity {
  /** PascalCase, e.g. `PurchaseOrder`. */
  name: string;
  /** What the UI calls one of them, e.g. `purchase order`. */
  label: string;
  fields: EntityField[];
  statuses: string[];
}

const f = (name: string, type: FieldType): EntityField => ({ name, type });

export const warehouseEntities: DomainEntity[] = [
  {
    name: "Product",
    label: "product",
    fields: [
      f("sku", "string"),
      f("name", "string"),
      f("weightKg", "number"),
      f("hazmat", "boolean"),
      f("barcode", "string"),
      f("createdAt", "Date"),
    ],
    statuses: ["active", "discontinued", "pending_review"],
  },
  {
    name: "Warehouse",
    label: "warehouse",
    fields: [
      f("code", "string"),
      f("city", "string"),
      f("capacityPallets", "number"),
      f("bonded", "boolean"),
      f("timezone", "string"),
    ],
    statuses: ["operational", "maintenance", "closed"],
  },
  {
    name: "StorageBin",
    label: "storage bin",
    fields: [
      f("aisle", "string"),
      f("rack", "number"),
      f("level", "number"),
      f("maxWeightKg", "number"),
      f("temperatureControlled", "boolean"),
    ],
    statuses: ["empty", "partial", "full", "blocked"],
  },
  {
    name: "InventoryItem",
    label: "inventory item",
    fields: [
      f("sku", "string"),
      f("quantity", "number"),
      f("lotNumber", "string"),
      f("expiresAt", "Date"),
      f("binCode", "string"),
    ],
    statuses: ["available", "reserved", "quarantined", "damaged"],
  },
  {
    name: "PurchaseOrder",
    label: "purchase order",
    fields: [
      f("orderNumber", "string"),
      f("supplierId", "string"),
      f("totalAmount", "number"),
      f("expectedAt", "Date"),
      f("urgent", "boolean"),
    ],
    statuses: ["draft", "submitted", "confirmed", "received", "cancelled"],
  },
  {
    name: "Shipment",
    label: "shipment",
    fields: [
      f("trackingNumber", "string"),
      f("carrierCode", "string"),
      f("parcelCount", "number"),
      f("shippedAt", "Date"),
      f("insured", "boolean"),
    ],
    statuses: ["planned", "picking", "packed", "in_transit", "delivered", "exception"],
  },
  {
    name: "Supplier",
    label: "supplier",
    fields: [
      f("legalName", "string"),
      f("country", "string"),
      f("leadTimeDays", "number"),
      f("preferred", "boolean"),
      f("email", "string"),
    ],
    statuses: ["onboarding", "approved", "suspended"],
  },
  {
    name: "Customer",
    label: "customer",
    fields: [
      f("displayName", "string"),
      f("accountNumber", "string"),
      f("creditLimit", "number"),
      f("vip", "boolean"),
      f("since", "Date"),
    ],
    statuses: ["prospect", "active", "on_hold"],
  },
  {
    name: "PickList",
    label: "pick list",
    fields: [
      f("waveNumber", "number"),
      f("picker", "string"),
      f("lineCount", "number"),
      f("startedAt", "Date"),
      f("priority", "number"),
    ],
    statuses: ["open", "assigned", "in_progress", "completed"],
  },
  {
    name: "PackingStation",
    label: "packing station",
    fields: [
      f("stationCode", "string"),
      f("operator", "string"),
      f("parcelsPerHour", "number"),
      f("scaleCalibrated", "boolean"),
    ],
    statuses: ["idle", "busy", "offline"],
  },
  {
    name: "Carrier",
    label: "carrier",
    fields: [
      f("code", "string"),
      f("name", "string"),
      f("cutoffHour", "number"),
      f("supportsTracking", "boolean"),
    ],
    statuses: ["enabled", "disabled"],
  },
  {
    name: "ReturnRequest",
    label: "return",
    fields: [
      f("rmaNumber", "string"),
      f("reason", "string"),
      f("refundAmount", "number"),
      f("receivedAt", "Date"),
      f("restockable", "boolean"),
    ],
    statuses: ["requested", "authorized", "received", "refunded", "rejected"],
  },
  {
    name: "CycleCount",
    label: "cycle count",
    fields: [
      f("zone", "string"),
      f("expectedQuantity", "number"),
      f("countedQuantity", "number"),
      f("countedAt", "Date"),
      f("counter", "string"),
    ],
    statuses: ["scheduled", "counting", "variance", "reconciled"],
  },
  {
    name: "DockAppointment",
    label: "dock appointment",
    fields: [
      f("doorNumber", "number"),
      f("trailerId", "string"),
      f("scheduledAt", "Date"),
      f("palletCount", "number"),
      f("inbound", "boolean"),
    ],
    statuses: ["booked", "arrived", "unloading", "done", "no_show"],
  },
  {
    name: "Replenishment",
    label: "replenishment task",
    fields: [
      f("fromBin", "string"),
      f("toBin", "string"),
      f("quantity", "number"),
      f("triggeredAt", "Date"),
      f("automatic", "boolean"),
    ],
    statuses: ["pending", "moving", "completed", "failed"],
  },
  {
    name: "Invoice",
    label: "invoice",
    fields: [
      f("invoiceNumber", "string"),
      f("customerId", "string"),
      f("amountDue", "number"),
      f("dueAt", "Date"),
      f("paid", "boolean"),
    ],
    statuses: ["draft", "issued", "paid", "overdue"],
  },
  {
    name: "Employee",
    label: "employee",
    fields: [
      f("badgeId", "string"),
      f("fullName", "string"),
      f("shift", "string"),
      f("forkliftCertified", "boolean"),
      f("hiredAt", "Date"),
    ],
    statuses: ["active", "on_leave", "terminated"],
  },
  {
    name: "Zone",
    label: "zone",
    fields: [
      f("code", "string"),
      f("description", "string"),
      f("binCount", "number"),
      f("frozen", "boolean"),
    ],
    statuses: ["open", "locked"],
  },
  {
    name: "Pallet",
    label: "pallet",
    fields: [
      f("sscc", "string"),
      f("heightCm", "number"),
      f("weightKg", "number"),
      f("mixed", "boolean"),
      f("builtAt", "Date"),
    ],
    statuses: ["building", "wrapped", "loaded"],
  },
  {
    name: "TransferOrder",
    label: "transfer order",
    fields: [
      f("sourceWarehouse", "string"),
      f("targetWarehouse", "string"),
      f("lineCount", "number"),
      f("requestedAt", "Date"),
      f("express", "boolean"),
    ],
    statuses: ["requested", "approved", "shipped", "received"],
  },
];

/** What one generated file is: a React view, a hook, a service, a types module, … */
export type ModuleKind =
  | "table"
  | "form"
  | "detailPanel"
  | "dashboard"
  | "hook"
  | "service"
  | "types"
  | "store"
  | "validation";

/** Per kind: file name pattern and extension. TSX only where there is JSX. */
export const moduleKinds: Record<ModuleKind, { fileName: (entity: string) => string }> = {
  table: { fileName: (e) => `${e}Table.tsx` },
  form: { fileName: (e) => `${e}Form.tsx` },
  detailPanel: { fileName: (e) => `${e}DetailPanel.tsx` },
  dashboard: { fileName: (e) => `${e}Dashboard.tsx` },
  hook: { fileName: (e) => `use${e}s.ts` },
  service: { fileName: (e) => `${e}Service.ts` },
  types: { fileName: (e) => `${e}.types.ts` },
  store: { fileName: (e) => `${e}Store.ts` },
  validation: { fileName: (e) => `${e}Validation.ts` },
};

export const moduleKindNames = Object.keys(moduleKinds) as ModuleKind[];
