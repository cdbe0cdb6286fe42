import { describe, expect, it } from "vitest";

import { answerRestriction, LOCAL_ADMIN, listNames, respondentsOf, roleAllows, type Identity } from "./auth";

const viewer: Identity = { user: "vera", role: "viewer" };
const operator: Identity = { user: "ana", role: "operator" };
const otherOperator: Identity = { user: "otto", role: "operator" };
const admin: Identity = { user: "ada", role: "admin" };

describe("roles", () => {
  it("orders viewer below operator below admin", () => {
    expect(roleAllows("viewer", "operator")).toBe(false);
    expect(roleAllows("operator", "operator")).toBe(true);
    expect(roleAllows("admin", "operator")).toBe(true);
    expect(roleAllows("operator", "admin")).toBe(false);
  });
});

describe("answerRestriction", () => {
  const prompt = { type: "request_confirmation", request_id: "r1", prompt: "Move?" };
  const named = { ...prompt, respondents: ["ana", "ben"] };

  it("lets operators, admins and the local admin answer a prompt that names nobody", () => {
    for (const identity of [operator, admin, LOCAL_ADMIN]) {
      expect(answerRestriction(identity, prompt)).toEqual({ allowed: true, text: null });
    }
  });

  it("tells a viewer that only operators can answer", () => {
    expect(answerRestriction(viewer, prompt)).toEqual({ allowed: false, text: "Only operators can answer." });
  });

  it("names the respondents to everyone, and lets only them and admins answer", () => {
    const text = "Only ana and ben may answer.";
    expect(answerRestriction(operator, named)).toEqual({ allowed: true, text });
    expect(answerRestriction(otherOperator, named)).toEqual({ allowed: false, text });
    expect(answerRestriction(admin, named)).toEqual({ allowed: true, text });
    expect(answerRestriction(viewer, named)).toEqual({ allowed: false, text });
  });

  it("still refuses a viewer the task names: answering needs an operator", () => {
    expect(answerRestriction(viewer, { ...prompt, respondents: ["vera"] })).toEqual({
      allowed: false,
      text: "Only operators can answer.",
    });
  });

  it("reads respondents defensively: absent, null, empty or malformed means anyone may", () => {
    expect(respondentsOf(prompt)).toBeNull();
    expect(respondentsOf({ respondents: null })).toBeNull();
    expect(respondentsOf({ respondents: [] })).toBeNull();
    expect(respondentsOf({ respondents: "ana" })).toBeNull();
    expect(respondentsOf({ respondents: ["ana", 3] })).toBeNull();
    expect(respondentsOf(named)).toEqual(["ana", "ben"]);
  });

  it("lists names as a sentence does", () => {
    expect(listNames(["ana"])).toBe("ana");
    expect(listNames(["ana", "ben"])).toBe("ana and ben");
    expect(listNames(["ana", "ben", "cy"])).toBe("ana, ben and cy");
  });
});
