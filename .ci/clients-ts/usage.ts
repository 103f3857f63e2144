// A partner's TypeScript calls, typed only by what openapi-typescript generates from
// /openapi.json (`paths`), through openapi-fetch. `tsc --strict` checks them in CI;
// nothing here runs. Schema names are never written out: every type comes from a
// path and a method, so renaming a schema breaks nothing that a partner wrote.
import createClient from "openapi-fetch";
import type { paths } from "mwf-api";

type JsonBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

type EnrollBody = JsonBody<"/v1/funds/{fund}/workers", "post">;
type ContributionBody = JsonBody<"/v1/funds/{fund}/contributions", "post">;

export function client(baseUrl: string, token: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

type Api = ReturnType<typeof client>;

/** Enrolls a worker with one contract and a spouse; the new worker's id. */
export async function enroll(api: Api, fund: string): Promise<string> {
  const body: EnrollBody = {
    document_type: "passport",
    document_number: "P-1",
    given_name: "Maria",
    family_name: "Santos",
    date_of_birth: "1990-04-02",
    sex: "female",
    dependants: [{ name: "Jose Santos", relationship: "spouse" }],
    contracts: [
      { employer: "Al Noor Household", destination_country: "SA", start_date: "2017-03-15", end_date: "2019-03-14" },
    ],
  };
  const { data, error } = await api.POST("/v1/funds/{fund}/workers", { params: { path: { fund } }, body });
  if (error) {
    throw new Error(`${error.code}: ${error.detail}`);
  }
  return data.id;
}

/** Quotes and records a contribution paid by the worker; a retry with the same key books once. */
export async function contribute(api: Api, fund: string, workerId: string, key: string) {
  const quote = await api.GET("/v1/funds/{fund}/contributions/quote", {
    params: { path: { fund }, query: { worker_id: workerId, paid_on: "2017-03-01" } },
  });
  if (!quote.data) {
    throw new Error(quote.error?.detail ?? "no quote");
  }
  const body: ContributionBody = {
    worker_id: workerId,
    paid_on: quote.data.paid_on,
    amount: quote.data.amount,
    currency: quote.data.currency,
    payers: [{ type: "worker", amount: quote.data.total }],
  };
  const { data, response } = await api.POST("/v1/funds/{fund}/contributions", {
    params: { path: { fund }, header: { "Idempotency-Key": key } },
    body,
  });
  const replayed = response.headers.get("Idempotent-Replayed") === "true";
  return { id: data?.id, coverageEnds: data?.coverage.end, replayed };
}

/** Submits a claim; its status and its riders' benefits. */
export async function claim(api: Api, workerId: string, spouseId: string) {
  const { data, error } = await api.POST("/v1/workers/{id}/claims", {
    params: { path: { id: workerId } },
    body: {
      benefit: "DEATH_NATURAL",
      incident_date: "2018-05-10",
      incident_phase: "abroad",
      claimant: { relationship: "spouse", dependant_id: spouseId },
      documents: [{ type: "DEATH_CERTIFICATE", reference: "DC-1" }],
    },
  });
  if (error) {
    return { problem: error.code, fields: (error.errors ?? []).map((e) => e.field) };
  }
  return { status: data.status, payable: data.assessment.payable, riders: data.riders.map((r) => r.benefit) };
}

/** The ids of the claims paid since the event `after`. */
export async function paidClaims(api: Api, after: string): Promise<string[]> {
  const { data } = await api.GET("/v1/events", { params: { query: { after, limit: 500 } } });
  return (data?.items ?? []).filter((e) => e.type === "claim.paid").map((e) => e.subject_id);
}

/** The types bite: each line below is an error tsc must report (else it fails). */
export async function misuse(api: Api, fund: string) {
  // @ts-expect-error `payers` is required
  const partial: ContributionBody = { worker_id: "w", paid_on: "2017-03-01", amount: "25.00", currency: "USD" };
  // @ts-expect-error no such path
  await api.GET("/v1/fund/{fund}", { params: { path: { fund } } });
  // @ts-expect-error the event type is a closed set
  const typo = (await api.GET("/v1/events")).data?.items.filter((e) => e.type === "claim.payed");
  return { partial, typo };
}
