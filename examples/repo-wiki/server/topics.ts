/** The topic of one repository's events. */
export function repoTopic(repoId: number | string): string {
  return `repo:${repoId}`;
}

/** The list topic an admin sees: every repository's list-level events. */
export const ALL_REPOS_TOPIC = 'repos';

/** The list topic a member sees: list-level events of the repositories it owns. */
export function ownerReposTopic(owner: string): string {
  return `repos:user:${owner}`;
}
