/**
 * Related words for tool search: people ask for "book a meeting" or "bill a customer" while tools
 * say "create event" and "create invoice". Each group lists words that name the same action or
 * thing in tool catalogs; a query word also matches the other words of its groups, at a lower
 * weight than an exact match. Words are in the stemmed form `words()` produces.
 */
const GROUPS: readonly string[] = [
  // actions
  "create new add make open file book schedule start compose write",
  "send post email mail message tell notify share announce ping",
  "delete remove cancel drop erase discard",
  "read show view open display content inside print cat",
  "list show all enumerate",
  "search find look query lookup locate",
  "update change edit modify set rename bump adjust",
  "move rename relocate",
  "assign give hand delegate reassign",
  "upload put store save push",
  "download fetch pull retrieve",
  "respond reply answer accept decline reject rsvp",
  "restart reboot rollout bounce",
  "scale replica resize bump",
  "merge land",
  "log record track spent time",
  "refund reimburse return money back",
  "invoice bill charge",
  "comment note remark reply",
  "archive hide",
  "transition status done close resolve move",
  // things
  "email mail gmail inbox",
  "message chat slack",
  "issue bug defect problem crash ticket",
  "pull pr request",
  "commit change history recent",
  "event meeting call appointment calendar invite invitation",
  "free available availability slot busy",
  "file document doc",
  "directory folder dir",
  "size big large disk space byte",
  "info metadata modified time date permission",
  "date day time today tomorrow yesterday week weekend month monday tuesday wednesday thursday friday saturday sunday",
  "database db sql table row postgres",
  "query sql select count many",
  "plan explain slow",
  "weather rain snow sunny temperature forecast wind",
  "currency euro dollar pound yen exchange rate convert",
  "translate language french spanish german",
  "cost spend spent price bill pay",
  "balance fund money available",
  "pod container kubernetes k8s cluster",
  "log logs output error crash",
  "function lambda serverless",
  "bucket s3 storage object artifact",
  "instance server vm ec2 machine",
  "metric cloudwatch cpu latency graph",
  "page notion wiki doc",
  "status emoji vacation away",
  "profile user person zone",
  "reaction emoji react thumb",
  "channel team room",
  "code source function class definition defined",
  "check ci build green pass fail review",
  "sprint board iteration",
  "screenshot capture image picture",
  "web internet online page",
];

let related: Map<string, Set<string>> | undefined;

/** The words related to `word` (without `word` itself), given in stemmed form. */
export function relatedWords(word: string, stem: (word: string) => string): ReadonlySet<string> {
  related ??= build(stem);
  return related.get(word) ?? new Set();
}

function build(stem: (word: string) => string): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const group of GROUPS) {
    const members = group.split(" ").map(stem);
    for (const member of members) {
      const set = map.get(member) ?? new Set<string>();
      for (const other of members) if (other !== member) set.add(other);
      map.set(member, set);
    }
  }
  return map;
}
