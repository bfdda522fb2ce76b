// Filled in by the server's GET /api/snack: the address the app in Snack talks to.
export const SNACK_SERVER: string = "";
