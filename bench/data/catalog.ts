/**
 * A realistic tool catalog (12 servers, the kinds of MCP servers people run) and natural-language
 * tasks with the tool that does each, for the meta-mode search-quality check and token figures.
 * The tasks are phrased as a user would ask, not copied from the tool descriptions.
 */

/** A tool as an upstream lists it. */
export interface CatalogTool {
  name: string;
  description: string;
  inputSchema: {
    type: "object";
    properties: Record<string, { type: string; description: string }>;
    required: string[];
  };
}

function tool(
  name: string,
  description: string,
  params: Record<string, string>,
  required: string[] = [],
): CatalogTool {
  const properties: CatalogTool["inputSchema"]["properties"] = {};
  for (const [key, text] of Object.entries(params)) {
    const [type, description] = text.includes(":")
      ? text.split(/:(.*)/s) as [string, string]
      : ["string", text];
    properties[key] = { type, description: description.trim() };
  }
  return { name, description, inputSchema: { type: "object", properties, required } };
}

/** Server name → its tools. */
export const SERVERS: Record<string, CatalogTool[]> = {
  github: [
    tool("create_issue", "Create a new issue in a GitHub repository.", {
      owner: "Repository owner",
      repo: "Repository name",
      title: "Issue title",
      body: "Issue body in Markdown",
    }, ["owner", "repo", "title"]),
    tool("list_issues", "List issues in a GitHub repository, filtered by state and labels.", {
      owner: "Repository owner",
      repo: "Repository name",
      state: "open, closed or all",
      labels: "Comma-separated labels",
    }),
    tool("create_pull_request", "Open a pull request from a branch.", {
      owner: "Repository owner",
      repo: "Repository name",
      head: "Branch with the changes",
      base: "Branch to merge into",
      title: "Pull request title",
    }),
    tool("merge_pull_request", "Merge an open pull request.", {
      owner: "Repository owner",
      repo: "Repository name",
      pull_number: "number:Pull request number",
      merge_method: "merge, squash or rebase",
    }),
    tool(
      "get_file_contents",
      "Read a file or directory listing from a GitHub repository at a branch or commit.",
      {
        owner: "Repository owner",
        repo: "Repository name",
        path: "File path",
        ref: "Branch, tag or commit",
      },
    ),
    tool("search_code", "Search source code across GitHub repositories.", {
      query: "Code search query",
    }),
    tool("create_branch", "Create a new branch from an existing one.", {
      owner: "Repository owner",
      repo: "Repository name",
      branch: "New branch name",
      from_branch: "Source branch",
    }),
    tool("list_commits", "List commits of a branch, newest first.", {
      owner: "Repository owner",
      repo: "Repository name",
      sha: "Branch or commit",
    }),
    tool("add_issue_comment", "Add a comment to an issue or pull request.", {
      owner: "Repository owner",
      repo: "Repository name",
      issue_number: "number:Issue number",
      body: "Comment text",
    }),
    tool("get_pull_request_review_status", "Get the review and check status of a pull request.", {
      owner: "Repository owner",
      repo: "Repository name",
      pull_number: "number:Pull request number",
    }),
  ],
  slack: [
    tool("post_message", "Post a message to a Slack channel.", {
      channel: "Channel name or id",
      text: "Message text",
    }, ["channel", "text"]),
    tool("reply_in_thread", "Reply to a Slack message in its thread.", {
      channel: "Channel id",
      thread_ts: "Timestamp of the parent message",
      text: "Reply text",
    }),
    tool("list_channels", "List public Slack channels in the workspace.", {
      limit: "number:How many",
    }),
    tool("get_channel_history", "Read recent messages from a Slack channel.", {
      channel: "Channel id",
      limit: "number:How many messages",
    }),
    tool("add_reaction", "Add an emoji reaction to a Slack message.", {
      channel: "Channel id",
      timestamp: "Message timestamp",
      reaction: "Emoji name",
    }),
    tool("get_user_profile", "Get a Slack user's profile: name, title, time zone.", {
      user_id: "User id",
    }),
    tool("search_messages", "Search Slack messages across channels.", { query: "Search text" }),
    tool("set_status", "Set your Slack status text and emoji.", {
      text: "Status text",
      emoji: "Status emoji",
      expiration: "number:Unix time it ends",
    }),
  ],
  filesystem: [
    tool("read_file", "Read the complete contents of a file.", { path: "File path" }, ["path"]),
    tool("write_file", "Create a file or overwrite it with new content.", {
      path: "File path",
      content: "Text to write",
    }, ["path", "content"]),
    tool("edit_file", "Make line-based edits to a text file and return a diff.", {
      path: "File path",
      edits: "array:Old and new text pairs",
      dryRun: "boolean:Preview only",
    }),
    tool("create_directory", "Create a directory, including parents.", { path: "Directory path" }),
    tool("list_directory", "List the files and directories in a directory.", {
      path: "Directory path",
    }),
    tool("move_file", "Move or rename a file or directory.", {
      source: "Current path",
      destination: "New path",
    }),
    tool("search_files", "Recursively find files whose names match a pattern.", {
      path: "Where to start",
      pattern: "Name pattern",
      excludePatterns: "array:Patterns to skip",
    }),
    tool("get_file_info", "Get file metadata: size, times, permissions.", { path: "File path" }),
    tool("directory_tree", "Get a recursive tree of a directory as JSON.", {
      path: "Directory path",
    }),
  ],
  postgres: [
    tool("query", "Run a read-only SQL query against the database.", {
      sql: "The SELECT statement",
    }, ["sql"]),
    tool("list_tables", "List the tables in a schema.", { schema: "Schema name" }),
    tool("describe_table", "Show the columns, types and indexes of a table.", {
      table: "Table name",
    }),
    tool("explain_query", "Show the execution plan of a SQL query.", {
      sql: "The statement",
      analyze: "boolean:Run it and report actual times",
    }),
    tool("list_slow_queries", "List the slowest queries from pg_stat_statements.", {
      limit: "number:How many",
    }),
    tool("table_sizes", "Report disk size and row estimates of the largest tables.", {
      limit: "number:How many",
    }),
  ],
  jira: [
    tool("create_ticket", "Create a Jira ticket in a project.", {
      project: "Project key",
      summary: "Ticket summary",
      type: "Bug, Task or Story",
      description: "Details",
    }),
    tool("transition_ticket", "Move a Jira ticket to another status (e.g. In Progress, Done).", {
      key: "Ticket key",
      status: "Target status",
    }),
    tool("search_tickets", "Search Jira tickets with JQL.", { jql: "JQL query" }),
    tool("assign_ticket", "Assign a Jira ticket to a person.", {
      key: "Ticket key",
      assignee: "User name",
    }),
    tool("log_work", "Log time spent on a Jira ticket.", {
      key: "Ticket key",
      time_spent: "e.g. 2h 30m",
      comment: "What was done",
    }),
    tool("get_sprint", "Get the active sprint of a board with its tickets.", { board: "Board id" }),
    tool("add_ticket_comment", "Comment on a Jira ticket.", { key: "Ticket key", body: "Comment" }),
  ],
  calendar: [
    tool("list_events", "List calendar events between two dates.", {
      calendar: "Calendar id",
      time_min: "Start (ISO 8601)",
      time_max: "End (ISO 8601)",
    }),
    tool("create_event", "Schedule a calendar event and invite attendees.", {
      summary: "Title",
      start: "Start (ISO 8601)",
      end: "End (ISO 8601)",
      attendees: "array:Email addresses",
    }),
    tool("find_free_slots", "Find times when all given people are free.", {
      attendees: "array:Email addresses",
      duration_minutes: "number:Meeting length",
      within_days: "number:Search window",
    }),
    tool("delete_event", "Cancel and delete a calendar event.", { event_id: "Event id" }),
    tool("update_event", "Change the time, title or attendees of an event.", {
      event_id: "Event id",
      start: "New start",
      end: "New end",
    }),
    tool("respond_to_invite", "Accept, decline or tentatively accept an invitation.", {
      event_id: "Event id",
      response: "accepted, declined or tentative",
    }),
  ],
  gmail: [
    tool("send_email", "Send an email.", {
      to: "array:Recipients",
      subject: "Subject",
      body: "Body text",
    }, ["to", "subject", "body"]),
    tool("search_emails", "Search emails with Gmail search syntax.", {
      query: "e.g. from:alice is:unread",
    }),
    tool("read_email", "Read one email with its headers and body.", { message_id: "Message id" }),
    tool("create_draft", "Save an email as a draft without sending it.", {
      to: "array:Recipients",
      subject: "Subject",
      body: "Body",
    }),
    tool("label_email", "Add or remove labels on an email.", {
      message_id: "Message id",
      add: "array:Labels to add",
      remove: "array:Labels to remove",
    }),
    tool("archive_email", "Archive an email (remove it from the inbox).", {
      message_id: "Message id",
    }),
  ],
  notion: [
    tool("search_pages", "Search Notion pages and databases by title and content.", {
      query: "Search text",
    }),
    tool("create_page", "Create a Notion page under a parent page.", {
      parent_id: "Parent page id",
      title: "Title",
      content: "Markdown content",
    }),
    tool("append_block", "Append paragraphs or lists to a Notion page.", {
      page_id: "Page id",
      markdown: "Content to append",
    }),
    tool("query_database", "Query a Notion database with filters and sorts.", {
      database_id: "Database id",
      filter: "object:Filter",
    }),
    tool("update_page_properties", "Change properties (status, tags, dates) of a Notion page.", {
      page_id: "Page id",
      properties: "object:New values",
    }),
  ],
  stripe: [
    tool("create_customer", "Create a Stripe customer.", { email: "Email", name: "Name" }),
    tool("create_invoice", "Create and send an invoice to a customer.", {
      customer: "Customer id",
      amount: "number:Amount in cents",
      currency: "Currency code",
      description: "Line item",
    }),
    tool("refund_payment", "Refund a payment fully or partly.", {
      payment_intent: "Payment intent id",
      amount: "number:Amount in cents",
    }),
    tool("list_subscriptions", "List a customer's subscriptions and their status.", {
      customer: "Customer id",
    }),
    tool("cancel_subscription", "Cancel a subscription now or at period end.", {
      subscription: "Subscription id",
      at_period_end: "boolean:Wait for the period end",
    }),
    tool("get_balance", "Get the account balance: available and pending funds.", {}),
  ],
  aws: [
    tool("s3_list_buckets", "List S3 buckets in the account.", {}),
    tool("s3_get_object", "Download an object from an S3 bucket.", {
      bucket: "Bucket",
      key: "Object key",
    }),
    tool("s3_put_object", "Upload data to an S3 bucket.", {
      bucket: "Bucket",
      key: "Object key",
      body: "Content",
    }),
    tool("ec2_describe_instances", "List EC2 instances with state, type and IP.", {
      filters: "object:Filters",
    }),
    tool("cloudwatch_get_metrics", "Get CloudWatch metric statistics over time.", {
      namespace: "Namespace",
      metric: "Metric name",
      period: "number:Seconds",
    }),
    tool("lambda_invoke", "Invoke a Lambda function with a payload.", {
      function_name: "Function",
      payload: "object:Event",
    }),
    tool("cost_by_service", "Report AWS cost per service for a date range.", {
      start: "Start date",
      end: "End date",
    }),
  ],
  kubernetes: [
    tool("get_pods", "List pods in a namespace with their status and restarts.", {
      namespace: "Namespace",
    }),
    tool("get_logs", "Fetch logs of a pod container.", {
      namespace: "Namespace",
      pod: "Pod name",
      container: "Container",
      tail: "number:Lines",
    }),
    tool("scale_deployment", "Change the replica count of a deployment.", {
      namespace: "Namespace",
      deployment: "Deployment",
      replicas: "number:Replicas",
    }),
    tool("rollout_restart", "Restart all pods of a deployment with a rolling update.", {
      namespace: "Namespace",
      deployment: "Deployment",
    }),
    tool("describe_resource", "Describe any Kubernetes resource, with events.", {
      kind: "Kind",
      name: "Name",
      namespace: "Namespace",
    }),
    tool("apply_manifest", "Apply a YAML manifest to the cluster.", { manifest: "YAML" }),
  ],
  web: [
    tool("fetch_url", "Fetch a web page and return it as Markdown.", { url: "URL" }, ["url"]),
    tool("web_search", "Search the web and return the top results with snippets.", {
      query: "Search terms",
      count: "number:How many",
    }),
    tool("get_weather", "Current weather and forecast for a place.", {
      location: "City or coordinates",
      days: "number:Forecast days",
    }),
    tool("convert_currency", "Convert an amount between currencies at today's rate.", {
      amount: "number:Amount",
      from: "Currency code",
      to: "Currency code",
    }),
    tool("translate_text", "Translate text into another language.", {
      text: "Text",
      target_language: "Language code",
    }),
    tool("screenshot_page", "Take a screenshot of a web page.", {
      url: "URL",
      full_page: "boolean:Whole page",
    }),
  ],
};

/** Every tool, named as the gateway exposes it (`<server>__<tool>`). */
export function exposedCatalog(): CatalogTool[] {
  return Object.entries(SERVERS).flatMap(([server, tools]) =>
    tools.map((t) => ({ ...t, name: `${server}__${t.name}` }))
  );
}

/** Natural-language tasks and the tool that does each. */
export const TASKS: ReadonlyArray<[task: string, tool: string]> = [
  ["open a PR to merge my feature branch into main", "github__create_pull_request"],
  ["file a bug about the login page crashing in our repo", "github__create_issue"],
  ["show me the open issues labelled help wanted", "github__list_issues"],
  ["what changed recently on the main branch", "github__list_commits"],
  ["are the CI checks green on pull request 42", "github__get_pull_request_review_status"],
  ["find where the function parseConfig is defined across repositories", "github__search_code"],
  ["tell the team in #deploys that the release is out", "slack__post_message"],
  ["what has been said in the incidents channel today", "slack__get_channel_history"],
  ["put a thumbs up emoji on that message", "slack__add_reaction"],
  ["set my status to on vacation", "slack__set_status"],
  ["what time zone is Priya in", "slack__get_user_profile"],
  ["show me what's inside notes.txt", "filesystem__read_file"],
  ["rename report-draft.md to report.md", "filesystem__move_file"],
  ["find all the png files under the assets folder", "filesystem__search_files"],
  ["how big is the backup archive and when was it modified", "filesystem__get_file_info"],
  ["how many users signed up last week according to the database", "postgres__query"],
  ["which columns does the orders table have", "postgres__describe_table"],
  ["why is this SQL statement slow, show the plan", "postgres__explain_query"],
  ["which tables take up the most disk space", "postgres__table_sizes"],
  ["mark PROJ-123 as done", "jira__transition_ticket"],
  ["record two hours spent on PROJ-88", "jira__log_work"],
  ["give PROJ-7 to Maria", "jira__assign_ticket"],
  ["what is in the current sprint", "jira__get_sprint"],
  ["book a meeting with Sam tomorrow at 3pm", "calendar__create_event"],
  [
    "when are Ana and Li both available for a 30 minute call this week",
    "calendar__find_free_slots",
  ],
  ["decline the invitation to Friday's offsite", "calendar__respond_to_invite"],
  ["what meetings do I have on Monday", "calendar__list_events"],
  ["email the quarterly numbers to finance", "gmail__send_email"],
  ["find unread mail from my manager", "gmail__search_emails"],
  ["write an email to the landlord but don't send it yet", "gmail__create_draft"],
  ["add a new page for meeting notes in Notion", "notion__create_page"],
  ["give this customer their money back for the duplicate charge", "stripe__refund_payment"],
  ["bill Acme 500 dollars for consulting", "stripe__create_invoice"],
  ["how much money is available in our Stripe account", "stripe__get_balance"],
  ["upload the build artifact to the releases bucket", "aws__s3_put_object"],
  ["how much did we spend on AWS last month per service", "aws__cost_by_service"],
  ["why does the api pod keep restarting, show its logs", "kubernetes__get_logs"],
  ["bump the web deployment to 5 replicas", "kubernetes__scale_deployment"],
  ["will it rain in Lisbon this weekend", "web__get_weather"],
  ["how many euros is 250 dollars", "web__convert_currency"],
];

/**
 * Forty more tasks, written by someone who saw only the catalog above (not the search code, nor
 * the tasks above), kept apart to measure how the search does on phrasing it was not tuned on.
 */
export const HELD_OUT_TASKS: ReadonlyArray<[task: string, tool: string]> = JSON.parse(
  Deno.readTextFileSync(new URL("./heldout_tasks.json", import.meta.url)),
);
