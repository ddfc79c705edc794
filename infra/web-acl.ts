import type { Stage } from "aws-cdk-lib/aws-apigateway";
import { CfnWebACL, CfnWebACLAssociation } from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";

/** The managed rule of AWS's common rule set that blocks every body over 8 KB. */
const BODY_SIZE_RULE = "SizeRestrictions_BODY";

export interface StageWebAclProps {
  readonly stage: Stage;
  /** Names the web ACL's metrics, e.g. `TrainingSets-dev`. */
  readonly metricPrefix: string;
  /** Requests one client IP may send in 5 minutes; past it the web ACL blocks that IP until its rate falls. */
  readonly rateLimit: number;
}

/**
 * A regional AWS WAF web ACL on the stage: a rate limit per client IP, then AWS's managed common
 * rule set (AWSManagedRulesCommonRuleSet). Everything else is allowed; API Gateway answers a
 * blocked request with its WAF_FILTERED gateway response (403, code 1027).
 */
export class StageWebAcl extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: StageWebAclProps) {
    super(scope, id);
    const visibility = (name: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName: `${props.metricPrefix}-${name}`,
      sampledRequestsEnabled: true,
    });
    this.webAcl = new CfnWebACL(this, "WebAcl", {
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      description: `training-sets ${props.metricPrefix}: a rate limit per client IP, then the AWS common rule set`,
      visibilityConfig: visibility("WebAcl"),
      rules: [
        {
          name: "RatePerClientIp",
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: { limit: props.rateLimit, aggregateKeyType: "IP", evaluationWindowSec: 300 },
          },
          visibilityConfig: visibility("RatePerClientIp"),
        },
        {
          name: "AWSManagedRulesCommonRuleSet",
          priority: 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: "AWS",
              name: "AWSManagedRulesCommonRuleSet",
              // The rule blocks every body over 8 KB; a registration's or a split's body may be up to
              // 1 MiB, and the functions refuse larger ones themselves (1014). Counted, not blocked.
              ruleActionOverrides: [{ name: BODY_SIZE_RULE, actionToUse: { count: {} } }],
            },
          },
          visibilityConfig: visibility("CommonRuleSet"),
        },
      ],
    });
    new CfnWebACLAssociation(this, "Association", {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
