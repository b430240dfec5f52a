-- Soundstage for WirePlumber 0.5: the `soundstage.rules` section, read and checked once, shared by the scripts that
-- act on it (soundstage/card-profile.lua, soundstage/instances.lua) through `require ("soundstage-rules")`.
--
-- The section (WirePlumber's matches/actions syntax, see 50-soundstage.conf) says per speaker model which
-- Soundstage profile to run, which card profile makes every driver a channel, whether to hide the raw device from
-- applications, the priority of the Soundstage sink and the fixed level of the drivers' own volume. Every bad rule
-- is logged once, naming it, and ignored: its devices stay plain sinks, never silent.

local log = Log.open_topic ("s-soundstage")
local M = {}

-- Every key a rule's update-props may set, with its type.
local KEYS = {
  ["soundstage.model"] = "string",          -- a name for the speaker model (used in log lines)
  ["soundstage.profile"] = "string",        -- required: a profile name (NAME.conf) or path
  ["soundstage.card-profile"] = "string",   -- card profile to select, e.g. pro-audio
  ["soundstage.hide-device"] = "boolean",   -- hide the raw sink from applications
  ["soundstage.priority"] = "integer",      -- priority.session of the Soundstage sink (keep below 1500)
  ["soundstage.device-volume"] = "number",  -- the raw sink's volume, pinned (linear, 0..1)
}

local function type_of (v)
  if type (v) == "number" then
    return (math.type (v) == "integer") and "integer" or "number"
  end
  return type (v)
end

-- Returns ok, error text, parsed rule.
local function check_rule (text)
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

-- Returns a list of valid rules { index, name, json (a one-rule array for JsonUtils), props }.
local function load_rules ()
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

-- Every valid rule, in order: { index, name, where, json (a one-rule array for JsonUtils), props }
M.rules = load_rules ()

-- The first valid rule that matches these properties, or nil.
function M.find (properties)
  for _, rule in ipairs (M.rules) do
    local _, count = JsonUtils.match_rules_update_properties (rule.json, properties)
    if count > 0 then
      return rule
    end
  end
  return nil
end

return M
