// The targets a run measures: the demo server directly, and the two gateways in front of it.

/**
 * The things measured: the demo server called directly, through the plain gateway, and through a
 * gateway that masks card data in prompts and responses.
 */
export type TargetName = 'direct' | 'infergate' | 'masked';

/** Every target, in the order each round visits them. */
export const TARGET_NAMES: readonly TargetName[] = ['direct', 'infergate', 'masked'];

/** A target served by a gateway child of its own. */
export interface GatewayTarget {
  readonly target: Exclude<TargetName, 'direct'>;
  /** The child's role in CPU figures and in the results' command lines. */
  readonly role: string;
  /** Human name in progress lines and start-up errors. */
  readonly label: string;
  /** `infergate start --mask`: where the child masks card data. */
  readonly mask: 'both' | 'none';
}

/**
 * The gateway children. The plain one runs `--mask none`, so its figures stay comparable with
 * runs from before masking was on by default; the masked one differs from it only by `--mask`.
 */
export const GATEWAY_TARGETS: readonly GatewayTarget[] = [
  { target: 'infergate', role: 'gateway', label: 'infergate', mask: 'none' },
  { target: 'masked', role: 'maskedGateway', label: 'masked infergate', mask: 'both' },
];

/** The targets a run measures, in round order: all, or all but `masked` (--no-masked). */
export function selectTargets(masked: boolean): readonly TargetName[] {
  return masked ? TARGET_NAMES : TARGET_NAMES.filter((name) => name !== 'masked');
}

/** The gateway children the selected targets need, in start order. */
export function gatewaysFor(targets: readonly TargetName[]): readonly GatewayTarget[] {
  return GATEWAY_TARGETS.filter((gateway) => targets.includes(gateway.target));
}

/** Process roles of CPU figures for the selected targets: the client, the demo, each gateway. */
export function cpuRolesFor(targets: readonly TargetName[]): readonly string[] {
  return ['client', 'demo', ...gatewaysFor(targets).map((gateway) => gateway.role)];
}
