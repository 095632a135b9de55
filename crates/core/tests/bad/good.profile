[profile]
id = "smoke"
name = "Smoke"

[[org_unit_kind]]
id = "company"
[[org_unit_kind]]
id = "office"
parents = ["company"]
[[org_unit_kind]]
id = "team"                          # a kind listing itself nests (teams in teams)
parents = ["office", "team"]

[[setting]]
id = "unassigned_login"
type = "bool"
default = false

[[resource_type]]
id = "conversation"
scope = "queue"
[resource_type.relations]
agent = { type = "user" }
queue = { type = "queue" }
[resource_type.attributes]
closed = { type = "bool", default = false }

[[resource_type]]
id = "user"
[resource_type.attributes]
seat_level = { type = "string", values = ["standard", "advanced"], default = "standard" }

[[section]]
id = "general"
name = "General"

[[privilege]]
id = "conv"
name = "View & Action Conversations"
parent = "general"
[[privilege]]
id = "edit_own"
name = "Edit User's Own Historical Conversations"
parent = "conv"
[[privilege]]
id = "edit_all"
name = "Edit All Historical Conversations"
parent = "conv"
[[privilege]]
id = "users"
name = "Users"
parent = "general"
kind = "levels"
levels = ["View only", "Modify", "Modify and Assign Roles"]
[[privilege]]
id = "oas"
name = "Other Agents Status"
parent = "general"
kind = "choice"
choices = ["All", "Same Group", "Same Queue"]
includes = { "All" = ["Same Group", "Same Queue"] }
multiple = true
[[privilege]]
id = "timeout"
name = "Override timeout"
parent = "general"
kind = "number"
min = 60
max = 3600
default = 900

[[role]]
id = "agent"
name = "Agent"
grants = { edit_own = true, "Users" = "View only", oas = "Same Group", timeout = 120 }

[[role]]
id = "manager"
name = "Manager"
includes = ["agent"]
grants = { conv = true, users = "Modify" }

[[action]]
id = "conversation.edit"
resource = "conversation"
requires = '''
has("Edit All Historical Conversations")
or (has("Edit User's Own Historical Conversations") and resource.agent == principal and resource.closed == true)
'''
[[action]]
id = "users.modify"
resource = "user"
requires = 'has("Users", "Modify")'
[[action]]
id = "agent.status.view"
resource = "user"
requires = '''has("Other Agents Status", "All")
  or (has("Other Agents Status", "Same Group") and shares(principal.groups, resource.groups))
  or (has("Other Agents Status", "Same Queue") and shares(principal.queues, resource.queues))'''
[[action]]
id = "queue.login"
resource = "queue"
requires = 'principal in resource.members or setting("unassigned_login")'
[[action]]
id = "seat.upgrade"
resource = "user"
requires = 'has("Users", "Modify") and resource.seat_level < "advanced" and value("timeout") >= 100'
