// The targets a run measures: the demo server directly, and the three gateways in front of it.

/**
 * The things measured: the demo server called directly, through the plain gateway, through a
 * gateway that masks card data in prompts and responses, and through one that also records every
 * exchange in its audit trail.
 */
export type TargetName = 'direct' | 'infergate' | 'masked' | 'audited';

/** Every target, in the order each round visits them. */
export const TARGET_NAMES: readonly TargetName[] = ['direct', 'infergate', 'masked', 'audited'];

/** A target served by a gateway child of its own. */
export interface GatewayTarget {
  readonly target: Exclude<TargetName, 'direct'>;
  /** The child's role in CPU figures and in the results' command lines. */
  readonly role: string;
  /** Human name in progress lines and start-up errors. */
  readonly label: string;
  /** `infergate start --mask`: where the child masks card data. */
  readonly mask: 'both' | 'none';
  /** Whether the child records its exchanges (`--audit-dir` in a temporary directory). */
  readonly audit: boolean;
}

/**
 * The gateway children. The plain one runs `--mask none`, so its figures stay comparable with
 * runs from before masking was on by default; the masked one differs from it only by `--mask`,
 * and the audited one from the masked one only by its audit trail.
 */
export const GATEWAY_TARGETS: readonly GatewayTarget[] = [
  { target: 'infergate', role: 'gateway', label: 'infergate', mask: 'none', audit: false },
  {
    target: 'masked',
    role: 'maskedGateway',
    label: 'masked infergate',
    mask: 'both',
    audit: false,
  },
  {
    target: 'audited',
    role: 'auditedGateway',
    label: 'audited infergate',
    mask: 'both',
    audit: true,
  },
];

/** Which of the optional targets a run measures (--no-masked, --no-audited). */
export interface TargetChoice {
  readonly masked: boolean;
  readonly audited: boolean;
}

/** The targets a run measures, in round order: direct and infergate always, then those chosen. */
export function selectTargets(choice: TargetChoice): readonly TargetName[] {
  return TARGET_NAMES.filter(
    (name) => (name !== 'masked' || choice.masked) && (name !== 'audited' || choice.audited),
  );
}

/** The gateway children the selected targets need, in start order. */
export function gatewaysFor(targets: readonly TargetName[]): readonly GatewayTarget[] {
  return GATEWAY_TARGETS.filter((gateway) => targets.includes(gateway.target));
}

/** The CPU role of a target's own process: its gateway's, or the demo server's for `direct`. */
export function cpuRoleOf(target: TargetName): string {
  return GATEWAY_TARGETS.find((gateway) => gateway.target === target)?.role ?? 'demo';
}

/** Process roles of CPU figures for the selected targets: the client, the demo, each gateway. */
export function cpuRolesFor(targets: readonly TargetName[]): readonly string[] {
  return ['client', 'demo', ...gatewaysFor(targets).map((gateway) => gateway.role)];
}
