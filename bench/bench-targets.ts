// The targets a run measures: the demo server directly, the four gateways in front of it, and
// nginx as the reference proxy where it is installed.

/**
 * The things measured: the demo server called directly, through the plain gateway, through a
 * gateway that masks card data in prompts and responses, through one that also records every
 * exchange in its audit trail, through one with every control on (mTLS, tokens and roles,
 * masking, audit), and through nginx as a plain reverse proxy.
 */
export type TargetName = 'direct' | 'infergate' | 'masked' | 'audited' | 'secured' | 'nginx';

/** Every target, in the order each round visits them. */
export const TARGET_NAMES: readonly TargetName[] = [
  'direct',
  'infergate',
  'masked',
  'audited',
  'secured',
  'nginx',
];

/** A target served by a gateway child of its own. */
export interface GatewayTarget {
  readonly target: Exclude<TargetName, 'direct' | 'nginx'>;
  /** The child's role in CPU figures and in the results' command lines. */
  readonly role: string;
  /** Human name in progress lines and start-up errors. */
  readonly label: string;
  /** `infergate start --mask`: where the child masks card data. */
  readonly mask: 'both' | 'none';
  /** Whether the child records its exchanges (`--audit-dir` in a temporary directory). */
  readonly audit: boolean;
  /**
   * Whether its listeners take TLS with a client certificate and a bound token (`--certs` on a
   * development set made in a temporary directory) instead of cleartext (`--insecure`).
   */
  readonly secured: boolean;
}

/**
 * The gateway children. The plain one runs `--mask none`, so its figures stay comparable with
 * runs from before masking was on by default; the masked one differs from it only by `--mask`,
 * the audited one from the masked one only by its audit trail, and the secured one from the
 * audited one only by TLS, tokens and roles.
 */
export const GATEWAY_TARGETS: readonly GatewayTarget[] = [
  {
    target: 'infergate',
    role: 'gateway',
    label: 'infergate',
    mask: 'none',
    audit: false,
    secured: false,
  },
  {
    target: 'masked',
    role: 'maskedGateway',
    label: 'masked infergate',
    mask: 'both',
    audit: false,
    secured: false,
  },
  {
    target: 'audited',
    role: 'auditedGateway',
    label: 'audited infergate',
    mask: 'both',
    audit: true,
    secured: false,
  },
  {
    target: 'secured',
    role: 'securedGateway',
    label: 'secured infergate',
    mask: 'both',
    audit: true,
    secured: true,
  },
];

/** The CPU role of the nginx child (its master process and worker together). */
export const NGINX_ROLE = 'nginx';

/** Which of the optional targets a run measures (--no-masked, --no-audited, ...). */
export interface TargetChoice {
  readonly masked: boolean;
  readonly audited: boolean;
  readonly secured: boolean;
  /** nginx was asked for (no --no-nginx) and is installed. */
  readonly nginx: boolean;
}

/** The targets a run measures, in round order: direct and infergate always, then those chosen. */
export function selectTargets(choice: TargetChoice): readonly TargetName[] {
  return TARGET_NAMES.filter((name) => name === 'direct' || name === 'infergate' || choice[name]);
}

/** The gateway children the selected targets need, in start order. */
export function gatewaysFor(targets: readonly TargetName[]): readonly GatewayTarget[] {
  return GATEWAY_TARGETS.filter((gateway) => targets.includes(gateway.target));
}

/** The CPU role of a target's own process: its gateway's, nginx's, or the demo's for `direct`. */
export function cpuRoleOf(target: TargetName): string {
  if (target === 'nginx') return NGINX_ROLE;
  return GATEWAY_TARGETS.find((gateway) => gateway.target === target)?.role ?? 'demo';
}

/** Process roles of CPU figures for the selected targets: the client, the demo, each proxy. */
export function cpuRolesFor(targets: readonly TargetName[]): readonly string[] {
  const roles = ['client', 'demo', ...gatewaysFor(targets).map((gateway) => gateway.role)];
  return targets.includes('nginx') ? [...roles, NGINX_ROLE] : roles;
}
