-- Soundstage policy for WirePlumber 0.5: plug in a speaker, get Soundstage.
--
-- The `soundstage.rules` section (WirePlumber's matches/actions syntax, see 50-soundstage.conf) says per speaker
-- model which Soundstage profile to run, which card profile makes every driver a channel, whether to hide the
-- raw device from applications, the priority of the Soundstage sink and the fixed level of the drivers' own
-- volume. This script:
--   * checks the rules once at start and logs every bad one, naming it (a bad rule is ignored: its device stays
--     a plain sink, never silent);
--   * when a device matching a rule is being given a card profile, selects the rule's card profile;
--   * when an Audio/Sink matching a rule appears, loads libpipewire-module-soundstage in this process with the
--     rule's profile, playing into that sink; pins the sink's own volume; optionally hides it; makes the
--     Soundstage sink the default (unless the user chose another default);
--   * when that sink goes away, unloads its Soundstage (the default falls back to the next sink and WirePlumber
--     moves the streams there).
-- Devices no rule matches are never touched.

log = Log.open_topic ("s-soundstage")

-- Every key a rule's update-props may set, with its type.
KEYS = {
  ["soundstage.model"] = "string",          -- a name for the speaker model (used in log lines)
  ["soundstage.profile"] = "string",        -- required: a profile name (NAME.conf) or path
  ["soundstage.card-profile"] = "string",   -- card profile to select, e.g. pro-audio
  ["soundstage.hide-device"] = "boolean",   -- hide the raw sink from applications
  ["soundstage.priority"] = "integer",      -- priority.session of the Soundstage sink (keep below 1500)
  ["soundstage.device-volume"] = "number",  -- the raw sink's volume, pinned (linear, 0..1)
}

-- Returns a list of valid rules { index, name, json (a one-rule array for JsonUtils), props }.
function load_rules ()
  local section = Conf.get_section_as_json ("soundstage.rules", Json.Array {})
  local valid = {}
  if not section:is_array () then
    log:warning ("soundstage.rules: expected an array of { matches = [ ... ] actions = { update-props = { ... } } }")
    return valid
  end
  for index, text in ipairs (section:parse (1)) do
    local ok, err, rule = check_rule (text)
    local name = (rule and rule.props and rule.props["soundstage.model"]) or "unnamed"
    local where = string.format ("soundstage.rules[%d] (\"%s\")", index, name)
    if ok then
      table.insert (valid, { index = index, name = name, where = where,
          json = Json.Raw ("[ " .. text .. " ]"), props = rule.props })
    else
      log:warning (where .. ": " .. err .. "; rule ignored, matching devices stay plain sinks")
    end
  end
  log:info (string.format ("soundstage.rules: %d valid rule(s)", #valid))
  return valid
end

function type_of (v)
  if type (v) == "number" then
    return (math.type (v) == "integer") and "integer" or "number"
  end
  return type (v)
end

-- Returns ok, error text, parsed rule.
function check_rule (text)
  local json = Json.Raw (text)
  if not json:is_object () then
    return false, "expected an object { matches = [ ... ] actions = { ... } }, got: " .. text
  end
  local rule = json:parse ()
  for k, _ in pairs (rule) do
    if k ~= "matches" and k ~= "actions" then
      return false, string.format ("unknown key '%s' (expected matches, actions)", k)
    end
  end
  if type (rule.matches) ~= "table" or #rule.matches == 0 then
    return false, "matches: expected a non-empty array of property sets", rule
  end
  if type (rule.actions) ~= "table" or type (rule.actions["update-props"]) ~= "table" then
    return false, "actions: expected { update-props = { soundstage.profile = ... } }", rule
  end
  for k, _ in pairs (rule.actions) do
    if k ~= "update-props" then
      return false, string.format ("actions: unknown action '%s' (expected update-props)", k), rule
    end
  end
  local props = rule.actions["update-props"]
  rule.props = props
  for k, v in pairs (props) do
    local want = KEYS[k]
    if want == nil then
      local known = {}
      for name, _ in pairs (KEYS) do table.insert (known, name) end
      table.sort (known)
      return false, string.format ("unknown key '%s' (expected one of: %s)", k, table.concat (known, ", ")), rule
    end
    local got = type_of (v)
    if not (got == want or (want == "number" and got == "integer")) then
      return false, string.format ("%s: expected a %s, got %s '%s'", k, want, got, tostring (v)), rule
    end
  end
  if props["soundstage.profile"] == nil or props["soundstage.profile"] == "" then
    return false, "soundstage.profile: missing (expected a profile name such as studio-5, or a path)", rule
  end
  local v = props["soundstage.device-volume"]
  if v ~= nil and (v < 0 or v > 1) then
    return false, string.format ("soundstage.device-volume: expected 0 .. 1, got %s", tostring (v)), rule
  end
  local p = props["soundstage.priority"]
  if p ~= nil and (p < 0 or p >= 1500) then
    return false, string.format ("soundstage.priority: expected 0 .. 1499 (below WirePlumber's own "
        .. "virtual sinks' 1500), got %d", p), rule
  end
  return true, nil, rule
end

RULES = load_rules ()

-- The first valid rule that matches these properties, or nil.
function find_rule (properties)
  for _, rule in ipairs (RULES) do
    local _, count = JsonUtils.match_rules_update_properties (rule.json, properties)
    if count > 0 then
      return rule
    end
  end
  return nil
end

-- raw sink node id -> { module, sink name, bound id, rule }
instances = {}

clients_om = ObjectManager { Interest { type = "client" } }
metadata_om = ObjectManager {
  Interest { type = "metadata", Constraint { "metadata.name", "=", "default" } }
}

-- Hidden sinks: bound id -> the id of the client that owns the node (never hidden from its owner: PipeWire
-- 1.4.2 aborts when a client loses sight of a node it created and then disconnects).
hidden = {}

function hide_from (client, bound_id, owner)
  if client.properties["wireplumber.daemon"] or client["bound-id"] == owner then
    return
  end
  client:update_permissions { [bound_id] = "-" }
end

function hide_from_clients (bound_id, owner)
  hidden[bound_id] = owner
  for client in clients_om:iterate () do
    hide_from (client, bound_id, owner)
  end
end

clients_om:connect ("object-added", function (_, client)
  for bound_id, owner in pairs (hidden) do
    hide_from (client, bound_id, owner)
  end
end)

-- Make our sink the default unless the user chose another one (theirs stays; the raw device counts as ours).
function claim_default (raw_name, sink_name)
  local metadata = metadata_om:lookup ()
  if not metadata then
    return
  end
  local value = metadata:find (0, "default.configured.audio.sink")
  local current = value and Json.Raw (value):parse ().name or nil
  if current == nil or current == raw_name then
    metadata:set (0, "default.configured.audio.sink", "Spa:String:JSON", Json.Object { name = sink_name }:to_string ())
    log:notice ("default sink: " .. sink_name)
  end
end

function pin_volume (node, level)
  local channels = tonumber (node.properties["audio.channels"]) or 2
  local volumes = { "Spa:Float" }
  for _ = 1, channels do table.insert (volumes, level) end
  node:set_param ("Props", Pod.Object {
    "Spa:Pod:Object:Param:Props", "Props",
    mute = false,
    channelVolumes = Pod.Array (volumes),
  })
end

function start_soundstage (node, rule)
  local props = node.properties
  local raw = props["node.name"]
  local desc = props["node.description"] or raw
  local sink_name = "soundstage.sink." .. raw
  local args = Json.Object {
    ["profile"] = rule.props["soundstage.profile"],
    ["target.object"] = raw,
    ["capture.props"] = Json.Object {
      ["node.name"] = sink_name,
      ["node.description"] = "Soundstage: " .. desc,
      ["priority.session"] = rule.props["soundstage.priority"] or 1400,
      ["soundstage.device"] = raw,
      ["soundstage.model"] = rule.name,
    },
    ["playback.props"] = Json.Object {
      ["node.name"] = "soundstage.output." .. raw,
      ["node.dont-reconnect"] = true,
      ["node.dont-fallback"] = true,
      ["soundstage.device"] = raw,
    },
  }
  log:notice (string.format ("%s matches %s: starting Soundstage with profile '%s'", raw, rule.where,
      rule.props["soundstage.profile"]))
  local module = LocalModule ("libpipewire-module-soundstage", args:to_string (), {})
  if module == nil then
    log:warning (string.format ("%s: Soundstage did not start for %s with profile '%s' (the module's error is "
        .. "logged above: a profile name that does not exist, or a broken profile); %s stays a plain sink",
        rule.where, raw, rule.props["soundstage.profile"], raw))
    return
  end
  local instance = { module = module, sink = sink_name, bound = node["bound-id"], rule = rule }
  instances[node.id] = instance
  if rule.props["soundstage.device-volume"] ~= nil then
    pin_volume (node, rule.props["soundstage.device-volume"])
  end
  if rule.props["soundstage.hide-device"] then
    -- a node made by the daemon itself (context.objects) or left behind by its client (object.linger) has no
    -- client.id: hide it from every client (-1 owns nothing)
    hide_from_clients (node["bound-id"], tonumber (props["client.id"]) or -1)
  end
  claim_default (raw, sink_name)
end

function is_ours (props)
  return props["soundstage.device"] ~= nil
      or (props["node.link-group"] or ""):find ("^soundstage") ~= nil
      or (props["node.name"] or ""):find ("^soundstage%.") ~= nil
end

-- Sinks are watched with an object manager rather than node-added hooks: it also reports the sinks that
-- existed before this script loaded (WirePlumber loads it after the monitors have announced theirs).
sinks_om = ObjectManager {
  Interest { type = "node", Constraint { "media.class", "=", "Audio/Sink" } }
}

sinks_om:connect ("object-added", function (_, node)
  if is_ours (node.properties) or instances[node.id] then
    return
  end
  local rule = find_rule (node.properties)
  if rule then
    start_soundstage (node, rule)
  end
end)

sinks_om:connect ("object-removed", function (_, node)
  local instance = instances[node.id]
  if instance == nil then
    return
  end
  log:notice (string.format ("%s went away: stopping %s", node.properties["node.name"] or "?", instance.sink))
  instances[node.id] = nil
  hidden[instance.bound] = nil
  instance.module = nil   -- WirePlumber collects garbage after every callback: the module unloads now
end)

-- A device matching a rule gets the rule's card profile (before a stored or "best" one is chosen).
SimpleEventHook {
  name = "device/soundstage-find-profile",
  before = "device/find-stored-profile",
  interests = {
    EventInterest {
      Constraint { "event.type", "=", "select-profile" },
    },
  },
  execute = function (event)
    local device = event:get_subject ()
    local rule = find_rule (device.properties)
    if rule == nil or rule.props["soundstage.card-profile"] == nil then
      return
    end
    local wanted = rule.props["soundstage.card-profile"]
    local names = {}
    for p in device:iterate_params ("EnumProfile") do
      local parsed = p:parse ()
      local pr = parsed and parsed.pod_type == "Object" and parsed.object_id == "EnumProfile" and parsed.properties
      if pr then
        table.insert (names, tostring (pr.name))
        if pr.name == wanted then
          log:notice (device, string.format ("%s: card profile '%s' for %s", rule.where, wanted,
              device.properties["device.name"] or "?"))
          event:set_data ("selected-profile", pr)
          return
        end
      end
    end
    log:warning (device, string.format ("%s: card profile '%s' not offered by %s (it has: %s)", rule.where,
        wanted, device.properties["device.name"] or "?", table.concat (names, ", ")))
  end
}:register ()

-- Devices that were already there when this script loaded get the rule's card profile now.
devices_om = ObjectManager {
  Interest { type = "device", Constraint { "media.class", "=", "Audio/Device" } }
}

devices_om:connect ("object-added", function (_, device)
  local rule = find_rule (device.properties)
  local wanted = rule and rule.props["soundstage.card-profile"]
  if wanted == nil then
    return
  end
  for p in device:iterate_params ("Profile") do
    local parsed = p:parse ()
    if parsed.properties and parsed.properties.name == wanted then
      return
    end
  end
  for p in device:iterate_params ("EnumProfile") do
    local parsed = p:parse ()
    if parsed.properties and parsed.properties.name == wanted then
      log:notice (device, string.format ("%s: setting card profile '%s' on %s", rule.where, wanted,
          device.properties["device.name"] or "?"))
      device:set_param ("Profile", Pod.Object {
        "Spa:Pod:Object:Param:Profile", "Profile", index = parsed.properties.index })
      return
    end
  end
end)

clients_om:activate ()
metadata_om:activate ()
devices_om:activate ()
sinks_om:activate ()
