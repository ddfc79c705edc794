import { Duration, RemovalPolicy, type Stack, Validations } from "aws-cdk-lib";
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { Key } from "aws-cdk-lib/aws-kms";
import { TABLE } from "../lib/store/table.ts";

/** The idempotency table's keys: one record a key (lib/http/idempotency.ts). */
export const IDEMPOTENCY_TABLE = { partitionKey: "id", expiryAttribute: "expiration" } as const;

export interface TablesProps {
  readonly removalPolicy: RemovalPolicy;
  /** DynamoDB refuses to delete the tables (by anyone, the stack included) while it is on. */
  readonly deletionProtection: boolean;
  /** `customer-managed`: both tables are encrypted with a KMS key of the stack's own. */
  readonly encryption: "aws-owned" | "customer-managed";
  /** On-demand maximum request units per second of the table and of its order index; `false`: none. */
  readonly maxReadRequestUnits: number | false;
  readonly maxWriteRequestUnits: number | false;
}

/**
 * The service's table and the idempotency table, made in the stack's own scope so that their
 * logical ids stay what they were (a changed id would replace a retained table by an empty one).
 */
export function addTables(stack: Stack, props: TablesProps) {
  const encryptionKey =
    props.encryption === "customer-managed"
      ? new Key(stack, "TableKey", {
          description: `training-sets ${stack.stackName}: encrypts the table and the idempotency table`,
          enableKeyRotation: true,
          // Scheduled for deletion only when the tables go too; the shortest wait AWS allows.
          removalPolicy: props.removalPolicy,
          ...(props.removalPolicy === RemovalPolicy.DESTROY ? { pendingWindow: Duration.days(7) } : {}),
        })
      : undefined;
  const encryption = encryptionKey ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey } : {};
  const maxThroughput = {
    ...(props.maxReadRequestUnits !== false ? { maxReadRequestUnits: props.maxReadRequestUnits } : {}),
    ...(props.maxWriteRequestUnits !== false ? { maxWriteRequestUnits: props.maxWriteRequestUnits } : {}),
  };

  const table = new Table(stack, "Table", {
    partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
    sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
    billingMode: BillingMode.PAY_PER_REQUEST,
    // Cost guards: on demand, but never past these request units per second.
    ...maxThroughput,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    // Only retired or dead snapshot items carry it (docs/design.md "Expiry, never of a live snapshot").
    timeToLiveAttribute: TABLE.expiryAttribute,
    deletionProtection: props.deletionProtection,
    ...encryption,
    removalPolicy: props.removalPolicy,
  });
  const index = TABLE.orderIndex;
  table.addGlobalSecondaryIndex({
    indexName: index.indexName,
    partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
    sortKey: { name: index.sortKey, type: AttributeType.NUMBER },
    projectionType: ProjectionType.INCLUDE,
    nonKeyAttributes: [...TABLE.projectedAttributes],
    // Every image write is an index write too: the same guard, or the index would be the way round it.
    ...maxThroughput,
  });

  // Its own table: one TTL attribute per table, and hot keys kept off the tasks' partitions.
  const idempotencyTable = new Table(stack, "IdempotencyTable", {
    partitionKey: { name: IDEMPOTENCY_TABLE.partitionKey, type: AttributeType.STRING },
    billingMode: BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: IDEMPOTENCY_TABLE.expiryAttribute,
    deletionProtection: props.deletionProtection,
    ...encryption,
    removalPolicy: props.removalPolicy,
  });
  Validations.of(idempotencyTable).acknowledge({
    id: "AwsSolutions-DDB3",
    reason:
      "No point-in-time recovery on the idempotency table: its records live only for the idempotency window (1 hour by default), and a restore makes a new table, by which time every record in it would have expired.",
  });
  return { table, idempotencyTable, encryptionKey };
}
